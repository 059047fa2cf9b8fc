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
