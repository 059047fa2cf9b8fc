/**
 * One image per function and version, built with dockerode from an in-memory context.
 * Tagged `faas-fn-<fn>:<version>-<inputs hash>` so an unchanged function is never rebuilt, and
 * a changed one always is (no stale image reuse). Images are shared by every stack on the host.
 */
import * as path from 'node:path';
import type Docker from 'dockerode';
import { FaasError, type FunctionDefinition, IMAGE_HASH_CHARS, IMAGE_REPO_PREFIX, type Logger } from '@faas/contracts';
import { type BuildStep, type BuildToolchain, collectBuildInputs, defaultBaseImage, packContext } from './build-context';
import { BuildStepError, runBuildSteps } from './build-steps';
import { imageLabels, readGitRevision } from './image-labels';
import { pruneFunctionImages } from './image-prune';
import { defaultPipPython } from './pip-install';

export { IMAGE_REPO_PREFIX };
export { planImagePrune, pruneFunctionImages, releaseImageClaims } from './image-prune';

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
  /** Interpreter whose pip installs requirements.txt (FAAS_PYTHON; Debian's python3 by default). */
  pipPython?: string;
}

export interface EnsureImageOptions extends RuntimeSources {
  stack: string;
  logger: Logger;
  /**
   * Let dockerd pull a base image that is not present locally (needs a registry). Off by
   * default: a missing base is then a clear error instead of a network call.
   */
  pullBase?: boolean;
  /** OCI `.revision`; read from the code folder's git checkout when absent. */
  sourceRevision?: string;
  /** OCI `.source`; the code folder's file: URL when absent. */
  sourceUrl?: string;
  /** Clock for the `.created` label. */
  now?: () => Date;
}

export interface EnsureImageResult {
  tag: string;
  inputsHash: string;
  built: boolean;
  buildMs: number;
  /** Host build steps that ran (typescript, requirements); empty when reused. */
  steps: BuildStep[];
}

/** Why a build failed, for the status endpoint and the log line. */
export type ImageBuildFailure = 'base_image_unreadable' | 'inputs_unreadable' | 'base_image_missing' | 'typescript' | 'requirements' | 'docker_build' | 'tag';

/**
 * An image could not be built; names the function, version, the reason and the last lines of
 * the build's output (docker, compiler or pip), also appended to the message, so the log line
 * and a status endpoint (`error: err.message`) show them. No tag is left behind.
 */
export class ImageBuildError extends FaasError {
  declare readonly context: { fn: string; version: string; reason: ImageBuildFailure; logTail: string[]; tag?: string; [k: string]: unknown };
  constructor(message: string, context: { fn: string; version: string; reason: ImageBuildFailure; logTail: string[]; tag?: string; [k: string]: unknown }, cause?: unknown) {
    super('image_build_failed', message, context, { cause });
    this.name = 'ImageBuildError';
  }
}

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
  return `${imageRepo(fn)}:${version}-${inputsHash.slice(0, IMAGE_HASH_CHARS)}`;
}

/** The image options from the orchestrator's settings (one place, for every caller of ensureFunctionImage). */
export function imageOptions(cfg: RuntimeSources & { stack: string; sourceRevision?: string; sourceUrl?: string }, logger: Logger): EnsureImageOptions {
  const { baseImage, pythonBaseImage, pipPython, stack, sourceRevision, sourceUrl } = cfg;
  return { baseImage, stack, logger, ...defined({ pythonBaseImage, pipPython, sourceRevision, sourceUrl }) };
}

function defined<T extends Record<string, string | undefined>>(o: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<Record<keyof T, string>>;
}

export function toolchainOf(opts: RuntimeSources): BuildToolchain {
  return { pipPython: opts.pipPython ?? defaultPipPython() };
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: unknown }).statusCode === 404;
}

export async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    return info.Id;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

const LOG_TAIL = 20;

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
  /** Logs one image_build_failed line (with the output tail) and returns the typed error to throw. */
  const failure = (reason: ImageBuildFailure, headline: string, logTail: string[], extra: Record<string, unknown> = {}, cause?: unknown): ImageBuildError => {
    const tail = logTail.slice(-LOG_TAIL);
    log.error('image_build_failed', { version: def.version, reason, error: headline, logTail: tail, ...extra });
    return new ImageBuildError(tail.length > 0 ? `${headline}\n${tail.join('\n')}` : headline, { ...ctx, ...extra, reason, logTail: tail }, cause);
  };
  let baseId: string | undefined;
  try {
    baseId = await imageId(docker, baseImage);
  } catch (err) {
    throw failure('base_image_unreadable', `cannot inspect base image ${baseImage} for ${def.name}@${def.version}: ${(err as Error).message}`, [], {}, err);
  }
  const toolchain = toolchainOf(opts);
  let inputs;
  try {
    inputs = await collectBuildInputs(def, runtimeDir, baseId ?? baseImage, toolchain);
  } catch (err) {
    throw failure('inputs_unreadable', `cannot read build inputs of ${def.name}@${def.version}: ${(err as Error).message}`, [], { codeDir: def.codeDir, runtimeDir }, err);
  }
  const tag = imageTag(def.name, def.version, inputs.inputsHash);
  const existing = inFlight.get(tag);
  if (existing) return existing;
  const p = (async (): Promise<EnsureImageResult> => {
    if ((await imageId(docker, tag)) !== undefined) {
      log.debug('image_reused', { tag, version: def.version });
      return { tag, inputsHash: inputs.inputsHash, built: false, buildMs: 0, steps: [] };
    }
    if (baseId === undefined && opts.pullBase !== true) {
      const script = def.runtime === 'python' ? 'make-python-base-image.sh' : 'make-base-image.sh';
      throw failure('base_image_missing', `cannot build ${def.name}@${def.version}: base image ${baseImage} is not present locally (run scripts/${script}, or docker pull it)`, [], { tag });
    }
    const started = Date.now();
    log.info('image_build_started', { tag, version: def.version, runtime: def.runtime, baseImage, steps: inputs.steps });
    let files;
    try {
      files = await runBuildSteps(inputs, def, toolchain);
    } catch (err) {
      const step = err instanceof BuildStepError ? err.step : 'inputs_unreadable';
      throw failure(step, `image build of ${def.name}@${def.version} failed: ${(err as Error).message}`, err instanceof BuildStepError ? err.output : [], { tag }, err);
    }
    let result: { id: string | undefined; error: string | undefined; tail: string[] };
    const revision = opts.sourceRevision ?? readGitRevision(def.codeDir);
    const labels = imageLabels(def, inputs.inputsHash, (opts.now ?? (() => new Date()))(), { ...(revision ? { revision } : {}), ...(opts.sourceUrl ? { sourceUrl: opts.sourceUrl } : {}) });
    try {
      // Built untagged, tagged only after success: a failed build never leaves a half-tagged image.
      const stream = await docker.buildImage(packContext(files), { buildargs: { BASE_IMAGE: baseImage }, labels, rm: true, forcerm: true, pull: false });
      result = await followBuild(docker, stream);
    } catch (err) {
      throw failure('docker_build', `image build of ${def.name}@${def.version} failed: ${(err as Error).message}`, [], { tag }, err);
    }
    if (result.error !== undefined || result.id === undefined) {
      throw failure('docker_build', `image build of ${def.name}@${def.version} failed: ${result.error ?? 'build finished without an image id'}`, result.tail, { tag });
    }
    const [repo, version] = [imageRepo(def.name), tag.slice(imageRepo(def.name).length + 1)];
    try {
      await docker.getImage(result.id).tag({ repo, tag: version });
    } catch (err) {
      throw failure('tag', `cannot tag image of ${def.name}@${def.version} as ${tag}: ${(err as Error).message}`, [], { tag, imageId: result.id }, err);
    }
    const buildMs = Date.now() - started;
    log.info('image_built', { tag, version: def.version, imageId: result.id, buildMs, steps: inputs.steps });
    return { tag, inputsHash: inputs.inputsHash, built: true, buildMs, steps: inputs.steps };
  })();
  inFlight.set(tag, p);
  try {
    return await p;
  } finally {
    inFlight.delete(tag);
  }
}

export interface RemoveStaleOptions extends RuntimeSources {
  /** The stack pruning (its claims are set, other stacks' claims are respected: image-prune.ts). */
  stack: string;
  logger: Logger;
}

/**
 * At start-up: prunes the images of the given functions as pruneFunctionImages does, keeping
 * the current build and the one this stack last used or else the newest other (the previous version). Functions not in `defs`
 * are left alone: another stack on this host may still define them. Returns the removed tags.
 */
export async function removeStaleImages(docker: Docker, defs: readonly FunctionDefinition[], opts: RemoveStaleOptions): Promise<string[]> {
  const removed: string[] = [];
  for (const def of defs) {
    const { baseImage, runtimeDir } = runtimeSourcesOf(def, opts);
    const baseRef = (await imageId(docker, baseImage)) ?? baseImage;
    const { inputsHash } = await collectBuildInputs(def, runtimeDir, baseRef, toolchainOf(opts));
    removed.push(...(await pruneFunctionImages(docker, def.name, [imageTag(def.name, def.version, inputsHash)], { stack: opts.stack, logger: opts.logger, keepNewest: 1 })));
  }
  return removed;
}
