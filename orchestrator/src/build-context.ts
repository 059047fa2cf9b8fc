/**
 * Build inputs of a function image: the generated Dockerfile, the file lists, the inputs hash
 * and the in-memory tar build context. Pure apart from reading files.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { type FunctionDefinition, RUNTIME_PORT, type Runtime } from '@faas/contracts';
import { REQUIREMENTS_FILE, pipToolchain } from './pip-install';
import { isTypeScriptFunction, typeScriptToolchain } from './ts-compile';

/** Directories never copied into an image: dependencies are the function's business, VCS data and bytecode caches are noise. */
const SKIP_DIRS = new Set(['node_modules', '.git', '__pycache__']);

/** Numeric so it works on the local base (user faas) and on the official node image alike. */
export const FUNCTION_UID = 10001;

export const IMAGE_PATHS = {
  runtime: '/opt/faas/runtime',
  function: '/opt/faas/function',
  /** Python packages from requirements.txt (on PYTHONPATH). */
  deps: '/opt/faas/deps',
  /** Found by require() from the function and the runtime alike (Node looks in /opt/faas/node_modules). */
  callClient: '/opt/faas/node_modules/@faas/call',
} as const;

/** Work done on the host before the docker build: compiling TypeScript, installing requirements.txt. */
export type BuildStep = 'typescript' | 'requirements';

/** Compiled @faas/call (its dist/src), copied into every Node image: `require('@faas/call')` resolves there. */
export function callClientDir(): string {
  return path.dirname(require.resolve('@faas/call'));
}

/** Context folder of the call client in a Node build. */
const CALL_CLIENT_REL = 'lib/faas-call';

export interface ContextFile {
  /** Path inside the build context, always with '/' separators. */
  rel: string;
  data: Buffer;
}

export interface BuildInputs {
  dockerfile: string;
  /** The sources (hashed); host build steps turn them into the final context. */
  files: ContextFile[];
  inputsHash: string;
  steps: BuildStep[];
}

/** What the host build steps depend on besides the files: compiler and pip settings. */
export interface BuildToolchain {
  /** The interpreter whose pip installs requirements.txt. */
  pipPython: string;
}

/** Regular files under dir, sorted by relative path; node_modules/.git skipped, symlinks ignored. */
export async function listFiles(dir: string, filter: (rel: string) => boolean = () => true): Promise<{ rel: string; abs: string }[]> {
  const out: { rel: string; abs: string }[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const entries = await fs.readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      const childAbs = path.join(abs, e.name);
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(childAbs, childRel);
      } else if (e.isFile() && filter(childRel)) {
        out.push({ rel: childRel, abs: childAbs });
      }
    }
  };
  await walk(dir, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** What differs per runtime in an image: default base, entry point, runtime files. */
interface RuntimeImage {
  defaultBase: string;
  entry: string;
  cmd: string[];
  env: string;
  /** Dockerfile lines run after the COPYs, as root; `extraDirs` are further image directories with code (deps). */
  buildSteps: (extraDirs: readonly string[]) => string[];
  /** COPY lines of libraries every function of the runtime gets (after the runtime's own). */
  libraryCopies: string[];
  isRuntimeFile: (rel: string) => boolean;
  buildHint: string;
}

const RUNTIME_IMAGES: Record<Runtime, RuntimeImage> = {
  // Only compiled JS of the runtime goes into images (no .d.ts, maps or build info).
  node: {
    defaultBase: 'node:20-alpine',
    entry: 'server.js',
    cmd: ['node', `${IMAGE_PATHS.runtime}/server.js`],
    env: 'NODE_ENV=production',
    buildSteps: () => [],
    libraryCopies: [`COPY ${CALL_CLIENT_REL}/ ${IMAGE_PATHS.callClient}/`],
    isRuntimeFile: (rel) => rel.endsWith('.js'),
    buildHint: 'build faas-runtime/node first',
  },
  // -B and PYTHONDONTWRITEBYTECODE: the root fs is read-only, no .pyc is written.
  python: {
    defaultBase: 'python:3.11-slim',
    entry: 'server.py',
    cmd: ['python3', '-B', `${IMAGE_PATHS.runtime}/server.py`],
    env: 'PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1',
    // Bytecode made at build (exec form: the local base has no shell): the container cannot
    // write it and compiling at every cold start costs ~0.3 s; a syntax error fails the build.
    buildSteps: (extraDirs) => ['USER 0', `RUN [${['python3', '-m', 'compileall', '-q', IMAGE_PATHS.runtime, IMAGE_PATHS.function, ...extraDirs].map((a) => `"${a}"`).join(', ')}]`],
    // faas_call.py sits in the runtime directory, which is on sys.path: `import faas_call` works.
    libraryCopies: [],
    isRuntimeFile: (rel) => rel.endsWith('.py'),
    buildHint: 'expected faas-runtime/python',
  },
};

/** The official image used as a runtime's base when none is configured. */
export function defaultBaseImage(runtime: Runtime): string {
  return RUNTIME_IMAGES[runtime].defaultBase;
}

/** Which host build steps a function needs, from its runtime and its files. */
export function buildStepsOf(def: Pick<FunctionDefinition, 'runtime' | 'handler'>, relFiles: readonly string[]): BuildStep[] {
  if (def.runtime === 'node') return isTypeScriptFunction(relFiles, def.handler) ? ['typescript'] : [];
  return relFiles.includes(REQUIREMENTS_FILE) ? ['requirements'] : [];
}

function toolchainOf(step: BuildStep, t: BuildToolchain): string {
  return step === 'typescript' ? typeScriptToolchain() : pipToolchain(t.pipPython);
}

/** The generated Dockerfile. The base image comes in as a build arg so one text serves every base. */
export function renderDockerfile(def: Pick<FunctionDefinition, 'name' | 'version' | 'handler' | 'runtime'>, steps: readonly BuildStep[] = []): string {
  const rt = RUNTIME_IMAGES[def.runtime];
  const deps = steps.includes('requirements');
  return [
    '# Generated by the faas orchestrator; do not edit.',
    `ARG BASE_IMAGE=${rt.defaultBase}`,
    'FROM ${BASE_IMAGE}',
    `COPY runtime/ ${IMAGE_PATHS.runtime}/`,
    ...rt.libraryCopies,
    `COPY function/ ${IMAGE_PATHS.function}/`,
    ...(deps ? [`COPY deps/ ${IMAGE_PATHS.deps}/`] : []),
    ...rt.buildSteps(deps ? [IMAGE_PATHS.deps] : []),
    `ENV FAAS_FUNCTION=${def.name} FAAS_VERSION=${def.version} FAAS_HANDLER=${def.handler} FAAS_CODE_DIR=${IMAGE_PATHS.function} FAAS_PORT=${RUNTIME_PORT} ${rt.env}${deps ? ` PYTHONPATH=${IMAGE_PATHS.deps}` : ''}`,
    `USER ${FUNCTION_UID}:${FUNCTION_UID}`,
    `WORKDIR ${IMAGE_PATHS.function}`,
    `EXPOSE ${RUNTIME_PORT}`,
    `CMD ${JSON.stringify(rt.cmd)}`,
    '',
  ].join('\n');
}

/**
 * Everything that decides an image's content, hashed: equal hash means the existing image is
 * still right. `baseRef` is the base image id when known (so a rebuilt base invalidates), else its name.
 */
export async function collectBuildInputs(def: FunctionDefinition, runtimeDir: string, baseRef: string, toolchain: BuildToolchain, callDir: string = callClientDir()): Promise<BuildInputs> {
  const rt = RUNTIME_IMAGES[def.runtime];
  const runtimeFiles = await listFiles(runtimeDir, rt.isRuntimeFile);
  if (!runtimeFiles.some((f) => f.rel === rt.entry)) {
    throw new Error(`runtime directory ${runtimeDir} has no ${rt.entry} (${rt.buildHint})`);
  }
  // A secret file kept next to the code (the demo's) never goes into the image.
  const secretFiles = new Set(Object.values(def.secrets).map((f) => path.relative(def.codeDir, f).split(path.sep).join('/')));
  const fnFiles = await listFiles(def.codeDir, (rel) => !secretFiles.has(rel));
  const steps = buildStepsOf(def, fnFiles.map((f) => f.rel));
  const dockerfile = renderDockerfile(def, steps);
  const files: ContextFile[] = [{ rel: 'Dockerfile', data: Buffer.from(dockerfile) }];
  for (const f of runtimeFiles) files.push({ rel: `runtime/${f.rel}`, data: await fs.readFile(f.abs) });
  if (rt.libraryCopies.length > 0) {
    for (const f of await listFiles(callDir, (rel) => rel.endsWith('.js'))) files.push({ rel: `${CALL_CLIENT_REL}/${f.rel}`, data: await fs.readFile(f.abs) });
  }
  for (const f of fnFiles) files.push({ rel: `function/${f.rel}`, data: await fs.readFile(f.abs) });
  const h = createHash('sha256');
  h.update('faas-image-inputs-v1\0');
  h.update(`base\0${baseRef}\0`);
  for (const step of steps) h.update(`step\0${step}\0${toolchainOf(step, toolchain)}\0`);
  for (const f of files) {
    // Length-prefixed so no two different file sets can produce the same byte stream.
    h.update(`${f.rel}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return { dockerfile, files, inputsHash: h.digest('hex'), steps };
}

/** In-memory tar of the build context; fixed mtimes/modes so the context is reproducible. */
export function packContext(files: readonly ContextFile[]): Readable {
  const pack = tar.pack();
  for (const f of files) {
    pack.entry({ name: f.rel, size: f.data.length, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, f.data);
  }
  pack.finalize();
  return pack as unknown as Readable;
}
