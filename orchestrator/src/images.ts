/**
 * One image per function and version, built with dockerode from an in-memory context.
 * Tagged by inputs hash so an unchanged function is never rebuilt, and a changed one
 * always is (no stale image reuse). Images are shared by every stack on the host.
 */
import * as path from 'node:path';
import type Docker from 'dockerode';
import { FaasError, type FunctionDefinition, LABELS, type Logger } from '@faas/contracts';
import { collectBuildInputs, defaultBaseImage, packContext } from './build-context';

/** Base images and runtime directories per runtime; `baseImage`/`runtimeDir` are Node's. */
export interface RuntimeSources {
  /** Base of Node function images (FAAS_BASE_IMAGE). */
  baseImage: string;
  /** Base of Python function images (FAAS_PYTHON_BASE_IMAGE); the official python:3.11-slim by default. */
  pythonBaseImage?: string;
  /** Compiled runtime (faas-runtime/node/dist/src) by default. */
  runtimeDir?: string;
  /** faas-runtime/python by default. */
  pythonRuntimeDir?: string;
}

export interface EnsureImageOptions extends RuntimeSources {
  stack: string;
  logger: Logger;
  /**
   * Let dockerd pull a base image that is not present locally (needs a registry). Off by
   * default: a missing base is then a clear error instead of a network call.
   */
  pullBase?: boolean;
}

export interface EnsureImageResult {
  tag: string;
  inputsHash: string;
  built: boolean;
  buildMs: number;
}

/** An image could not be built; names the function, version and the last build log lines. */
export class ImageBuildError extends FaasError {
  constructor(message: string, context: { fn: string; version: string; tag?: string; logTail?: string[]; [k: string]: unknown }, cause?: unknown) {
    super('image_build_failed', message, context, { cause });
    this.name = 'ImageBuildError';
  }
}

export const IMAGE_REPO_PREFIX = 'faas-fn-';

export function defaultRuntimeDir(): string {
  // orchestrator/dist/src/images.js -> faas-runtime/node/dist/src
  return path.resolve(__dirname, '..', '..', '..', 'faas-runtime', 'node', 'dist', 'src');
}

export function defaultPythonRuntimeDir(): string {
  // orchestrator/dist/src/images.js -> faas-runtime/python (sources are what runs)
  return path.resolve(__dirname, '..', '..', '..', 'faas-runtime', 'python');
}

/** The base image and runtime directory a function's image is built from. */
export function runtimeSourcesOf(def: Pick<FunctionDefinition, 'runtime'>, opts: RuntimeSources): { baseImage: string; runtimeDir: string } {
  if (def.runtime === 'python') {
    return { baseImage: opts.pythonBaseImage ?? defaultBaseImage('python'), runtimeDir: opts.pythonRuntimeDir ?? defaultPythonRuntimeDir() };
  }
  return { baseImage: opts.baseImage, runtimeDir: opts.runtimeDir ?? defaultRuntimeDir() };
}

export function imageRepo(fn: string): string {
  return `${IMAGE_REPO_PREFIX}${fn}`;
}

export function imageTag(fn: string, version: string, inputsHash: string): string {
  return `${imageRepo(fn)}:${version}-${inputsHash.slice(0, 12)}`;
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: unknown }).statusCode === 404;
}

async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    return info.Id;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const LOG_TAIL = 15;

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/** Runs the build stream to its end; resolves with the built image id or rejects with the log tail. */
function followBuild(docker: Docker, stream: NodeJS.ReadableStream): Promise<{ id: string | undefined; error: string | undefined; tail: string[] }> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    let id: string | undefined;
    let error: string | undefined;
    const keep = (line: string): void => {
      for (const l of line.split('\n')) {
        const t = l.trimEnd();
        if (t === '') continue;
        tail.push(t);
        if (tail.length > LOG_TAIL) tail.shift();
      }
    };
    docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        if (err) reject(err);
        else resolve({ id, error, tail });
      },
      (ev: BuildEvent) => {
        if (typeof ev.stream === 'string') keep(ev.stream);
        if (ev.aux?.ID) id = ev.aux.ID;
        if (ev.error !== undefined || ev.errorDetail !== undefined) {
          error = ev.errorDetail?.message ?? ev.error ?? 'unknown build error';
          keep(error);
        }
      },
    );
  });
}

// Concurrent calls for the same tag share one build.
const inFlight = new Map<string, Promise<EnsureImageResult>>();

export async function ensureFunctionImage(docker: Docker, def: FunctionDefinition, opts: EnsureImageOptions): Promise<EnsureImageResult> {
  const log = opts.logger.child({ fn: def.name });
  const { baseImage, runtimeDir } = runtimeSourcesOf(def, opts);
  const ctx = { fn: def.name, version: def.version, runtime: def.runtime, baseImage };
  let baseId: string | undefined;
  try {
    baseId = await imageId(docker, baseImage);
  } catch (err) {
    throw new ImageBuildError(`cannot inspect base image ${baseImage} for ${def.name}@${def.version}: ${(err as Error).message}`, ctx, err);
  }
  let inputs;
  try {
    inputs = await collectBuildInputs(def, runtimeDir, baseId ?? baseImage);
  } catch (err) {
    throw new ImageBuildError(`cannot read build inputs of ${def.name}@${def.version}: ${(err as Error).message}`, { ...ctx, codeDir: def.codeDir, runtimeDir }, err);
  }
  const tag = imageTag(def.name, def.version, inputs.inputsHash);
  const existing = inFlight.get(tag);
  if (existing) return existing;
  const p = (async (): Promise<EnsureImageResult> => {
    if ((await imageId(docker, tag)) !== undefined) {
      log.debug('image_reused', { tag, version: def.version });
      return { tag, inputsHash: inputs.inputsHash, built: false, buildMs: 0 };
    }
    if (baseId === undefined && opts.pullBase !== true) {
      throw new ImageBuildError(
        `cannot build ${def.name}@${def.version}: base image ${baseImage} is not present locally (run scripts/${def.runtime === 'python' ? 'make-python-base-image.sh' : 'make-base-image.sh'}, or docker pull it)`,
        { ...ctx, tag, reason: 'base_image_missing' },
      );
    }
    const started = Date.now();
    log.info('image_build_started', { tag, version: def.version, runtime: def.runtime, baseImage });
    let result: { id: string | undefined; error: string | undefined; tail: string[] };
    try {
      // Built untagged, tagged only after success: a failed build never leaves a half-tagged image.
      const stream = await docker.buildImage(packContext(inputs.files), {
        buildargs: { BASE_IMAGE: baseImage },
        labels: { [LABELS.function]: def.name, [LABELS.version]: def.version, [LABELS.inputsHash]: inputs.inputsHash },
        rm: true,
        forcerm: true,
        pull: false,
      });
      result = await followBuild(docker, stream);
    } catch (err) {
      throw new ImageBuildError(`image build of ${def.name}@${def.version} failed: ${(err as Error).message}`, { ...ctx, tag }, err);
    }
    if (result.error !== undefined || result.id === undefined) {
      const msg = result.error ?? 'build finished without an image id';
      log.error('image_build_failed', { tag, version: def.version, error: msg, logTail: result.tail });
      throw new ImageBuildError(`image build of ${def.name}@${def.version} failed: ${msg}\n${result.tail.join('\n')}`, { ...ctx, tag, logTail: result.tail });
    }
    const [repo, version] = [imageRepo(def.name), tag.slice(imageRepo(def.name).length + 1)];
    try {
      await docker.getImage(result.id).tag({ repo, tag: version });
    } catch (err) {
      throw new ImageBuildError(`cannot tag image of ${def.name}@${def.version} as ${tag}: ${(err as Error).message}`, { ...ctx, tag, imageId: result.id }, err);
    }
    const buildMs = Date.now() - started;
    log.info('image_built', { tag, version: def.version, imageId: result.id, buildMs });
    return { tag, inputsHash: inputs.inputsHash, built: true, buildMs };
  })();
  inFlight.set(tag, p);
  try {
    return await p;
  } finally {
    inFlight.delete(tag);
  }
}

export interface RemoveStaleOptions extends RuntimeSources {
  logger: Logger;
}

/**
 * Removes faas-fn-* images of the given functions whose inputs hash is no longer current and
 * that no container (of any stack, running or not) uses. Functions not in `defs` are left
 * alone: another stack on this host may still define them. Returns the removed tags/ids.
 */
export async function removeStaleImages(docker: Docker, defs: readonly FunctionDefinition[], opts: RemoveStaleOptions): Promise<string[]> {
  const current = new Map<string, string>();
  for (const def of defs) {
    const { baseImage, runtimeDir } = runtimeSourcesOf(def, opts);
    const baseRef = (await imageId(docker, baseImage)) ?? baseImage;
    current.set(def.name, (await collectBuildInputs(def, runtimeDir, baseRef)).inputsHash);
  }
  const images = await docker.listImages({ filters: { label: [LABELS.function] } });
  const containers = await docker.listContainers({ all: true });
  const inUse = new Set(containers.map((c) => c.ImageID));
  const removed: string[] = [];
  for (const img of images) {
    const labels = img.Labels ?? {};
    const fn = labels[LABELS.function];
    const hash = labels[LABELS.inputsHash];
    if (fn === undefined || hash === undefined || !current.has(fn) || current.get(fn) === hash) continue;
    const tags = (img.RepoTags ?? []).filter((t) => t.startsWith(`${imageRepo(fn)}:`));
    if (tags.length === 0 || inUse.has(img.Id)) continue;
    for (const t of tags) {
      try {
        await docker.getImage(t).remove();
        removed.push(t);
        opts.logger.info('image_removed', { fn, tag: t, inputsHash: hash, reason: 'stale' });
      } catch (err) {
        // In use by a container created meanwhile, or removed by another orchestrator: harmless.
        opts.logger.warn('image_remove_failed', { fn, tag: t, error: (err as Error).message });
      }
    }
  }
  return removed;
}
