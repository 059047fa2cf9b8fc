/**
 * What the docker-backed image tests share: the local base images (made by the scripts if
 * missing; no registry is used), copies of example functions with a unique marker, definitions.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { type FunctionDefinition, definitionWithDefaults } from '@faas/contracts';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BASE = process.env.FAAS_BASE_IMAGE ?? 'faas-node-base:local';
export const PY_BASE = process.env.FAAS_PYTHON_BASE_IMAGE ?? 'faas-python-base:local';
export const docker = new Docker();
/** Unique per test process: names and markers never collide with another run. */
export const uid = randomBytes(4).toString('hex');
const tmpDirs: string[] = [];

/** A copy of the function folder `from`, with a unique marker so this run's image is always new (tests pass when run twice). */
export function tempFunction(from: string, entry = 'index.js', comment = '//'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-img-test-'));
  tmpDirs.push(dir);
  fs.cpSync(from, dir, { recursive: true });
  fs.appendFileSync(path.join(dir, entry), `\n${comment} test run ${uid}\n`);
  return dir;
}

export function removeTempFunctions(): void {
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function defOf(name: string, codeDir: string, version = 't1'): FunctionDefinition {
  return definitionWithDefaults(name, codeDir, { version, concurrency: 2, timeoutMs: 5000, scaling: { idleTimeoutMs: 10_000, maxInstances: 1, targetConcurrency: 2 }, maxBodyBytes: 1024 * 1024 });
}

/** Makes the local base images the tests build on when the engine lacks them. */
export async function ensureBaseImages(): Promise<void> {
  for (const [image, script] of [[BASE, 'make-base-image.sh'], [PY_BASE, 'make-python-base-image.sh']] as const) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      execFileSync('bash', [path.join(ROOT, 'scripts', script)], { stdio: 'inherit' });
    }
  }
}

/** One GET to a runtime on the loopback. */
export function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** Polls the runtime's readiness endpoint until it answers 200 (bounded: 10 s). */
export async function waitReady(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await get(port, '/_faas/ready').catch(() => undefined); // not listening yet: poll again
    if (r?.status === 200) return;
    if (Date.now() > deadline) throw new Error('container never became ready');
    await new Promise((res) => setTimeout(res, 25));
  }
}
