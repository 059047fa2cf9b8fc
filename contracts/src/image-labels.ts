/**
 * Labels on function images besides the platform's own (LABELS in names.ts): the OCI
 * annotation keys (https://github.com/opencontainers/image-spec/blob/main/annotations.md),
 * declared once so the orchestrator that writes them and the tools that read them agree.
 */
export const OCI_LABELS = {
  /** Function name. */
  title: 'org.opencontainers.image.title',
  /** Function version from the definition. */
  version: 'org.opencontainers.image.version',
  /** Build time, RFC 3339. */
  created: 'org.opencontainers.image.created',
  /** The source checkout's commit, when known (absent otherwise). */
  revision: 'org.opencontainers.image.revision',
  /** Where the function's code comes from: FAAS_SOURCE_URL, else a file: URL of the code folder. */
  source: 'org.opencontainers.image.source',
} as const;

/** Function image tags: `faas-fn-<fn>:<version>-<first 12 hex of the inputs hash>`. */
export const IMAGE_REPO_PREFIX = 'faas-fn-';
export const IMAGE_HASH_CHARS = 12;

/**
 * A stack's claim on a function image it relies on: the tag `faas-fn-<fn>:claim-<stack>-<role>`,
 * moved with `docker tag` as the stack's active and previous images change and removed when it
 * stops. Images are shared by every stack on a host; another stack's prune leaves a claimed image.
 */
export const IMAGE_CLAIM_ROLES = ['active', 'previous'] as const;
export type ImageClaimRole = (typeof IMAGE_CLAIM_ROLES)[number];

/** The tag part (after the colon) of a stack's claim; stacks are 1-32 of a-z, 0-9, "-". */
export function imageClaimTagPart(stack: string, role: ImageClaimRole): string {
  return `claim-${stack}-${role}`;
}

const CLAIM = /^claim-([a-z0-9-]{1,32})-(active|previous)$/;

/** The stack and role of a claim tag part; undefined for any other tag (content tags end in 12 hex). */
export function parseImageClaim(tagPart: string): { stack: string; role: ImageClaimRole } | undefined {
  const m = CLAIM.exec(tagPart);
  return m?.[1] !== undefined && m[2] !== undefined ? { stack: m[1], role: m[2] as ImageClaimRole } : undefined;
}
