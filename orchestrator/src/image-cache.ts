/**
 * The orchestrator's memo of built images: one build per definition object (a rollout's new
 * definition gets its own, an unchanged one is cached). "Already built" is only a belief:
 * images are shared by every stack on the host, so another stack's prune, `docker image
 * prune` or a user can remove one. A container create that finds its image gone calls
 * rebuild(), which re-checks Docker (ensureFunctionImage reuses an existing tag) and builds again.
 */
import type { FunctionDefinition, Logger } from '@faas/contracts';

export class ImageCache {
  private readonly tags = new WeakMap<FunctionDefinition, Promise<string>>();

  /**
   * @param build resolves the tag of a definition's image, building it if Docker lacks it
   * @param retryAfter a failed build is forgotten after this delay (a later wake builds again,
   *   but not at once: under load every tick would otherwise start another doomed build)
   */
  constructor(
    private readonly build: (def: FunctionDefinition) => Promise<string>,
    private readonly retryAfter: (forget: () => void) => void,
  ) {}

  /** The image tag of `def`, built once and memoized. */
  tag(def: FunctionDefinition): Promise<string> {
    const cached = this.tags.get(def);
    if (cached) return cached;
    const p = this.build(def);
    this.tags.set(def, p);
    // The caller sees and logs the failure; only the memo is dropped here, and only if still ours.
    p.catch(() => this.retryAfter(() => {
      if (this.tags.get(def) === p) this.tags.delete(def);
    }));
    return p;
  }

  /**
   * The image `missing` of `def` is gone from Docker: build it again (once for concurrent
   * callers) and return the tag to use. When the memo already moved on (another caller
   * rebuilt), that tag is returned without a second build.
   */
  async rebuild(def: FunctionDefinition, missing: string): Promise<string> {
    const cached = this.tags.get(def);
    if (cached) {
      const current = await cached.catch(() => undefined); // a failed build: build again below
      if (this.tags.get(def) !== cached) return this.tag(def);
      if (current !== undefined && current !== missing) return current;
      this.tags.delete(def);
    }
    return this.tag(def);
  }
}

/** Docker's answer to a container create whose image is not there (404 "No such image: ..."). */
export function isNoSuchImage(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { statusCode?: unknown; message?: unknown };
  return e.statusCode === 404 && typeof e.message === 'string' && /no such image/i.test(e.message);
}

/** Builds the image of `def` again after `missing` was found gone; resolves with the tag to use. */
export type RebuildImage = (def: FunctionDefinition, missing: string) => Promise<string>;

/**
 * Runs create(image). When Docker says the image is gone, rebuilds it once (logged as
 * image_missing_rebuilt) and retries once with the rebuilt tag: a removed image costs a build,
 * never a failed start. Without `rebuild`, or on any other error, create's error is thrown.
 */
export async function createRebuildingImage<T>(spec: { def: FunctionDefinition; image: string }, rebuild: RebuildImage | undefined, log: Logger, create: (image: string) => Promise<T>): Promise<T> {
  try {
    return await create(spec.image);
  } catch (err) {
    if (!rebuild || !isNoSuchImage(err)) throw err;
    const t0 = Date.now();
    const tag = await rebuild(spec.def, spec.image);
    log.warn('image_missing_rebuilt', { fn: spec.def.name, tag: spec.image, ...(tag !== spec.image ? { rebuiltTag: tag } : {}), ms: Date.now() - t0 });
    return create(tag);
  }
}
