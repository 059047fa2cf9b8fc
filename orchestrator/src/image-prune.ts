/**
 * Pruning old images of a function: keep the ones named (the active and the previous version),
 * or else the newest others, and never one a container (of any stack, running or not) uses.
 * The decision is pure (planImagePrune); pruneFunctionImages does the Docker I/O.
 */
import type Docker from 'dockerode';
import { IMAGE_REPO_PREFIX, LABELS, type Logger } from '@faas/contracts';

export interface FunctionImage {
  id: string;
  /** This function's tags of the image (`faas-fn-<fn>:...`). */
  tags: string[];
  /** Creation time, epoch seconds (Docker's `Created`). */
  created: number;
}

export type KeepReason = 'named' | 'in_use' | 'previous';

export interface PrunePlan {
  keep: { image: FunctionImage; reason: KeepReason }[];
  remove: FunctionImage[];
}

export interface PruneRule {
  /** Tags that stay (the active version's, the previous version's). */
  keepTags: readonly string[];
  /** Image ids some container uses. */
  inUse: ReadonlySet<string>;
  /** How many more of the newest other images stay (the previous build when the caller does not name it). */
  keepNewest: number;
}

/** Which images of one function to keep and which to remove. */
export function planImagePrune(images: readonly FunctionImage[], rule: PruneRule): PrunePlan {
  const named = new Set(rule.keepTags);
  const keep: PrunePlan['keep'] = [];
  const rest: FunctionImage[] = [];
  for (const image of images) {
    if (image.tags.some((t) => named.has(t))) keep.push({ image, reason: 'named' });
    else if (rule.inUse.has(image.id)) keep.push({ image, reason: 'in_use' });
    else rest.push(image);
  }
  // Newest first; ties by first tag so the plan does not depend on Docker's list order.
  rest.sort((a, b) => b.created - a.created || (a.tags[0] ?? '').localeCompare(b.tags[0] ?? ''));
  const n = Math.max(0, rule.keepNewest);
  for (const image of rest.slice(0, n)) keep.push({ image, reason: 'previous' });
  return { keep, remove: rest.slice(n) };
}

export interface PruneOptions {
  logger: Logger;
  /** See PruneRule.keepNewest; 0 by default (keepTags names everything to keep). */
  keepNewest?: number;
}

/** This function's images as Docker lists them (by the faas.function label and the tag prefix). */
async function functionImages(docker: Docker, fn: string): Promise<FunctionImage[]> {
  const prefix = `${IMAGE_REPO_PREFIX}${fn}:`;
  const images = await docker.listImages({ filters: { label: [`${LABELS.function}=${fn}`] } });
  return images
    .map((img) => ({ id: img.Id, tags: (img.RepoTags ?? []).filter((t) => t.startsWith(prefix)), created: img.Created }))
    .filter((img) => img.tags.length > 0);
}

/**
 * Removes the images of `fn` not kept by planImagePrune (keepTags: the active and the previous
 * version's tags). Returns the removed tags; each removal is logged as image_removed.
 */
export async function pruneFunctionImages(docker: Docker, fn: string, keepTags: readonly string[], opts: PruneOptions): Promise<string[]> {
  const images = await functionImages(docker, fn);
  const containers = await docker.listContainers({ all: true });
  const plan = planImagePrune(images, { keepTags, inUse: new Set(containers.map((c) => c.ImageID)), keepNewest: opts.keepNewest ?? 0 });
  const removed: string[] = [];
  for (const img of plan.remove) {
    for (const t of img.tags) {
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
