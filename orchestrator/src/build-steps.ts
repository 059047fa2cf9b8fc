/**
 * Host build steps: turn the hashed sources of a build context into the context docker builds.
 * Run only when the image must be built (an existing image with the same inputs hash is reused).
 */
import * as fs from 'node:fs/promises';
import { type BuildInputs, type BuildToolchain, type ContextFile, listFiles } from './build-context';
import { PipInstallError, REQUIREMENTS_FILE, pipInstall } from './pip-install';
import { TypeScriptCompileError, compileTypeScript, isTypeScriptSource } from './ts-compile';

/** A host step failed; `output` is what the compiler or pip said (it goes into the build error's log tail). */
export class BuildStepError extends Error {
  constructor(readonly step: 'typescript' | 'requirements', message: string, readonly output: string[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildStepError';
  }
}

const FN = 'function/';

function functionFiles(files: readonly ContextFile[]): ContextFile[] {
  return files.filter((f) => f.rel.startsWith(FN)).map((f) => ({ rel: f.rel.slice(FN.length), data: f.data }));
}

async function readTree(dir: string): Promise<ContextFile[]> {
  const out: ContextFile[] = [];
  for (const f of await listFiles(dir)) out.push({ rel: f.rel, data: await fs.readFile(f.abs) });
  return out;
}

/** .ts sources replaced by their compiled .js; the handler module must be among the output. */
async function compileStep(files: ContextFile[], codeDir: string, handler: string): Promise<ContextFile[]> {
  let emitted: Map<string, Buffer>;
  try {
    emitted = await compileTypeScript(codeDir);
  } catch (err) {
    throw new BuildStepError('typescript', (err as Error).message, err instanceof TypeScriptCompileError ? err.diagnostics : [String(err)], { cause: err });
  }
  const mod = handler.slice(0, handler.lastIndexOf('.'));
  if (!emitted.has(`${mod}.js`)) {
    throw new BuildStepError('typescript', `the compiler emitted no ${mod}.js for handler "${handler}"`, [`emitted: ${[...emitted.keys()].join(', ') || 'nothing'}`]);
  }
  const kept = files.filter((f) => !(f.rel.startsWith(FN) && isTypeScriptSource(f.rel)) && !emitted.has(f.rel.slice(FN.length)));
  return [...kept, ...[...emitted].map(([rel, data]) => ({ rel: `${FN}${rel}`, data }))];
}

/** requirements.txt installed into deps/ (with a copy of it, so deps/ is never empty). */
async function requirementsStep(files: ContextFile[], pipPython: string): Promise<ContextFile[]> {
  const fnFiles = functionFiles(files);
  const req = fnFiles.find((f) => f.rel === REQUIREMENTS_FILE);
  const wanted = (req?.data.toString() ?? '').split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  let deps: ContextFile[] = [];
  if (wanted) {
    try {
      deps = await pipInstall(fnFiles, pipPython, readTree);
    } catch (err) {
      throw new BuildStepError('requirements', (err as Error).message, err instanceof PipInstallError ? err.output : [String(err)], { cause: err });
    }
  }
  return [...files, { rel: `deps/.faas-${REQUIREMENTS_FILE}`, data: req?.data ?? Buffer.alloc(0) }, ...deps.map((f) => ({ rel: `deps/${f.rel}`, data: f.data }))];
}

/** The final build context: the sources after every host step of `inputs.steps`. */
export async function runBuildSteps(inputs: BuildInputs, def: { codeDir: string; handler: string }, toolchain: BuildToolchain): Promise<ContextFile[]> {
  let files = inputs.files;
  for (const step of inputs.steps) {
    files = step === 'typescript' ? await compileStep(files, def.codeDir, def.handler) : await requirementsStep(files, toolchain.pipPython);
  }
  return files;
}
