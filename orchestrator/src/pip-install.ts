/**
 * A Python function's requirements.txt, installed at image build on the host (`pip install
 * --target`), because container builds here have no registry access: the packages land in the
 * build context under deps/ and the image puts them on PYTHONPATH. pip honours its own
 * environment (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_NO_INDEX) for offline use.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

export const REQUIREMENTS_FILE = 'requirements.txt';

/** pip's settings that change what gets installed; part of the image inputs hash. */
const PIP_ENV = ['PIP_INDEX_URL', 'PIP_EXTRA_INDEX_URL', 'PIP_FIND_LINKS', 'PIP_NO_INDEX'] as const;

/** The interpreter whose pip installs requirements: FAAS_PYTHON, else Debian's (it has pip, setuptools, wheel), else python3 on PATH. */
export function defaultPipPython(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.FAAS_PYTHON?.trim();
  if (configured) return configured;
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export function pipToolchain(python: string, env: NodeJS.ProcessEnv = process.env): string {
  return [`python=${python}`, ...PIP_ENV.map((k) => `${k}=${env[k] ?? ''}`)].join(' ');
}

export class PipInstallError extends Error {
  constructor(message: string, readonly output: string[]) {
    super(message);
    this.name = 'PipInstallError';
  }
}

export interface StagedFile {
  rel: string;
  data: Buffer;
}

const PIP_TIMEOUT_MS = 5 * 60_000;

/**
 * Installs `requirements.txt` of the function (its files given in memory) into a temporary
 * target and returns the installed files by path relative to that target. The function's files
 * are staged in a temporary copy first: pip resolves relative paths from its working directory
 * and building a local package writes build/ and *.egg-info next to it, which must not land in
 * the user's folder (they would also change the inputs hash).
 */
export async function pipInstall(functionFiles: readonly StagedFile[], python: string, readFiles: (dir: string) => Promise<StagedFile[]>): Promise<StagedFile[]> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'faas-pip-'));
  try {
    const src = path.join(work, 'function');
    for (const f of functionFiles) {
      const abs = path.join(src, ...f.rel.split('/'));
      await fsp.mkdir(path.dirname(abs), { recursive: true });
      await fsp.writeFile(abs, f.data);
    }
    const target = path.join(work, 'deps');
    // No build isolation: it would download setuptools for every source package, and there is
    // no index here; the host interpreter's setuptools/wheel build local packages instead.
    const args = ['-m', 'pip', 'install', '--target', target, '--no-compile', '--no-build-isolation', '--disable-pip-version-check', '--no-input', '--no-warn-script-location', '-r', REQUIREMENTS_FILE];
    const output = await new Promise<string>((resolve, reject) => {
      execFile(python, args, { cwd: src, timeout: PIP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } }, (err, stdout, stderr) => {
        const text = `${stdout}${stderr}`;
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') reject(new PipInstallError(`no interpreter ${python} to run pip for ${REQUIREMENTS_FILE} (install python3-pip, or set FAAS_PYTHON)`, []));
        else if (err) reject(new PipInstallError(`pip install -r ${REQUIREMENTS_FILE} failed: ${err.message.split('\n')[0]}`, text.split('\n').filter((l) => l.trim() !== '')));
        else resolve(text);
      });
    });
    if (!fs.existsSync(target)) throw new PipInstallError('pip install produced no target directory', output.split('\n'));
    return await readFiles(target);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}
