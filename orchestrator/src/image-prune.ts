/**
 * Pruning old images of a function. Images are shared by every stack on the host (content-
 * addressed tags: equal code is one image), so each stack claims the images it relies on with
 * tags naming it (`claim-<stack>-active` / `-previous`, contracts/src/image-labels.ts) and prunes
 * only images no other stack claims and no container (of any stack, running or not) uses:
 * keep the named ones (the active and the previous version), or else the newest others.
 * The decision is pure (planImagePrune); pruneFunctionImages does the Docker I/O.
 */
import type Docker from 'dockerode';
import { IMAGE_CLAIM_ROLES, IMAGE_REPO_PREFIX, type ImageClaimRole, LABELS, type Logger, imageClaimTagPart, parseImageClaim } from '@faas/contracts';

export interface FunctionImage {
  id: string;
  /** This function's tags of the image (`faas-fn-<fn>:...`): content tags and claims. */
  tags: string[];
  /** Creation time, epoch seconds (Docker's `Created`). */
  created: number;
}

export type KeepReason = 'named' | 'in_use' | 'claimed' | 'previous';

export interface PrunePlan {
  /** `by`: the other stacks claiming it (reason 'claimed'). */
  keep: { image: FunctionImage; reason: KeepReason; by?: string[] }[];
  remove: FunctionImage[];
  /** This stack's claims, set first (docker tag moves a claim off its old image): role -> content tag. */
  claim: { role: ImageClaimRole; tag: string }[];
  /** This stack's claims that now have no image (untagged before removals). */
  release: ImageClaimRole[];
}

export interface PruneRule {
  /** The pruning stack: its own claims never protect an image from itself. */
  stack: string;
  /** Tags that stay: the active version's, then the previous version's; claimed in that order. */
  keepTags: readonly string[];
  /** Image ids some container uses. */
  inUse: ReadonlySet<string>;
  /** How many more of the newest other images stay (the previous build when the caller does not name it). */
  keepNewest: number;
}

const tagPart = (tag: string): string => tag.slice(tag.lastIndexOf(':') + 1);
const claimsOf = (image: FunctionImage) => image.tags.flatMap((t) => parseImageClaim(tagPart(t)) ?? []);
/** Tags that are no claim: the ones a stack removes when it removes an image. */
export const contentTags = (image: FunctionImage): string[] => image.tags.filter((t) => parseImageClaim(tagPart(t)) === undefined);

/** Which images of one function to keep and which to remove, and where this stack's claims go. */
export function planImagePrune(images: readonly FunctionImage[], rule: PruneRule): PrunePlan {
  const named = new Set(rule.keepTags);
  const keep: PrunePlan['keep'] = [];
  const rest: FunctionImage[] = [];
  for (const image of images) {
    const others = [...new Set(claimsOf(image).filter((c) => c.stack !== rule.stack).map((c) => c.stack))].sort();
    if (contentTags(image).some((t) => named.has(t))) keep.push({ image, reason: 'named' });
    else if (rule.inUse.has(image.id)) keep.push({ image, reason: 'in_use' });
    else if (others.length > 0) keep.push({ image, reason: 'claimed', by: others });
    else rest.push(image);
  }
  // What this stack last used first (its claims from a run that did not stop cleanly), then
  // newest; ties by first tag so the plan does not depend on Docker's list order.
  const rank = (img: FunctionImage): number => Math.min(2, ...claimsOf(img).filter((c) => c.stack === rule.stack).map((c) => IMAGE_CLAIM_ROLES.indexOf(c.role)));
  rest.sort((a, b) => rank(a) - rank(b) || b.created - a.created || (a.tags[0] ?? '').localeCompare(b.tags[0] ?? ''));
  const n = Math.max(0, rule.keepNewest);
  for (const image of rest.slice(0, n)) keep.push({ image, reason: 'previous' });

  const present = new Set(images.flatMap(contentTags));
  const [active, named2] = rule.keepTags.map((t) => (present.has(t) ? t : undefined));
  const previous = named2 !== undefined && named2 !== active ? named2 : rest.slice(0, n).flatMap(contentTags)[0];
  const claim = ([['active', active], ['previous', previous]] as const).flatMap(([role, tag]) => (tag !== undefined ? [{ role, tag }] : []));
  const held = new Set(images.flatMap(claimsOf).filter((c) => c.stack === rule.stack).map((c) => c.role));
  const release = IMAGE_CLAIM_ROLES.filter((role) => held.has(role) && !claim.some((c) => c.role === role));
  return { keep, remove: rest.slice(n), claim, release };
}

export interface PruneOptions {
  /** The pruning stack (PruneRule.stack). */
  stack: string;
  logger: Logger;
  /** See PruneRule.keepNewest; 0 by default (keepTags names everything to keep). */
  keepNewest?: number;
}

/** Every function image (faas.function label) with its `faas-fn-` tags; only `fn`'s when given. */
async function functionImages(docker: Docker, fn?: string): Promise<FunctionImage[]> {
  const prefix = fn === undefined ? IMAGE_REPO_PREFIX : `${IMAGE_REPO_PREFIX}${fn}:`;
  const images = await docker.listImages({ filters: { label: [fn === undefined ? LABELS.function : `${LABELS.function}=${fn}`] } });
  return images
    .map((img) => ({ id: img.Id, tags: (img.RepoTags ?? []).filter((t) => t.startsWith(prefix)), created: img.Created }))
    .filter((img) => img.tags.length > 0);
}

/**
 * Claims the kept images for `opts.stack` and removes the images of `fn` planImagePrune does
 * not keep (keepTags: the active and the previous version's tags). Returns the removed tags;
 * each removal is logged as image_removed. A failed step is logged and skipped: another stack
 * may be pruning the same images, and a wrongly removed image is rebuilt at its next start.
 */
export async function pruneFunctionImages(docker: Docker, fn: string, keepTags: readonly string[], opts: PruneOptions): Promise<string[]> {
  const images = await functionImages(docker, fn);
  const containers = await docker.listContainers({ all: true });
  const plan = planImagePrune(images, { stack: opts.stack, keepTags, inUse: new Set(containers.map((c) => c.ImageID)), keepNewest: opts.keepNewest ?? 0 });
  const repo = `${IMAGE_REPO_PREFIX}${fn}`;
  const warn = (what: string, tag: string) => (err: unknown) => void opts.logger.warn(what, { fn, tag, error: (err as Error).message });
  for (const c of plan.claim) {
    await docker.getImage(c.tag).tag({ repo, tag: imageClaimTagPart(opts.stack, c.role) }).catch(warn('image_claim_failed', c.tag));
  }
  for (const role of plan.release) {
    const tag = `${repo}:${imageClaimTagPart(opts.stack, role)}`;
    await docker.getImage(tag).remove().catch(warn('image_claim_release_failed', tag));
  }
  const removed: string[] = [];
  for (const img of plan.remove) {
    for (const t of contentTags(img)) {
      try {
        await docker.getImage(t).remove();
        removed.push(t);
        opts.logger.info('image_removed', { fn, tag: t, reason: 'pruned' });
      } catch (err) {
        // In use by a container created meanwhile, or removed by another orchestrator: harmless.
        opts.logger.warn('image_remove_failed', { fn, tag: t, error: (err as Error).message });
      }
    }
  }
  return removed;
}

/**
 * At shutdown: removes every claim of `stack` (only the tags; an image goes with its last tag
 * when no container uses it), so a stopped stack holds no image from other stacks' pruning.
 * Returns the untagged claims.
 */
export async function releaseImageClaims(docker: Docker, stack: string, logger: Logger): Promise<string[]> {
  const released: string[] = [];
  for (const img of await functionImages(docker)) {
    for (const t of img.tags) {
      if (parseImageClaim(tagPart(t))?.stack !== stack) continue;
      try {
        await docker.getImage(t).remove();
        released.push(t);
      } catch (err) {
        // Released meanwhile (a second shutdown path) or the engine is gone: nothing left to hold.
        logger.warn('image_claim_release_failed', { tag: t, error: (err as Error).message });
      }
    }
  }
  return released;
}
