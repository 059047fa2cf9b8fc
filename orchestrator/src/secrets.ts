/**
 * Reading a function's secret files (definition field `secrets`: name -> file path). Their
 * contents only ever live in local buffers here and in the files secret-mounts.ts writes: never in
 * a definition object, an error, a log line, env, a label or an image.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FaasError, type FunctionDefinition } from '@faas/contracts';

/** Where a secret appears inside an instance: /run/secrets/<name>. */
export const SECRETS_MOUNT = '/run/secrets';

/** Refuse absurd files (a path pointing at a log or a device): secrets are small. */
export const MAX_SECRET_BYTES = 1024 * 1024;

export interface SecretProblem {
  fn: string;
  secret: string;
  file: string;
  reason: string;
}

export function secretError(p: SecretProblem): FaasError {
  return new FaasError('secret_unreadable', `function "${p.fn}": secret "${p.secret}": cannot read ${p.file}: ${p.reason}`, { ...p });
}

/** Why a file cannot serve as a secret (the file system's words, no content), or undefined. */
function readSecret(file: string): { data: Buffer } | { reason: string } {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return { reason: 'not a regular file' };
    if (st.size > MAX_SECRET_BYTES) return { reason: `larger than ${MAX_SECRET_BYTES} bytes` };
    return { data: fs.readFileSync(file) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { reason: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err as Error).message) };
  }
}

/** Every secret of a definition that cannot be read (for one clear line each at start). */
export function secretProblems(def: FunctionDefinition): SecretProblem[] {
  const out: SecretProblem[] = [];
  for (const [secret, file] of Object.entries(def.secrets)) {
    const r = readSecret(file);
    if ('reason' in r) out.push({ fn: def.name, secret, file, reason: r.reason });
  }
  return out;
}

/** The contents of every secret, by name; throws FaasError secret_unreadable naming fn and file. */
export function readSecrets(def: FunctionDefinition): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [secret, file] of Object.entries(def.secrets).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const r = readSecret(file);
    if ('reason' in r) throw secretError({ fn: def.name, secret, file, reason: r.reason });
    out.set(secret, r.data);
  }
  return out;
}

/**
 * A digest of a definition's secret contents, for version hashes: a changed secret file is a
 * changed function. Keyed (HMAC-SHA256), because the result ends up in labels, image tags and
 * logs, and a plain hash of a short password is a verifier anyone could brute-force.
 * '' when the function has no secrets, so other functions' hashes are unaffected.
 * Throws FaasError secret_unreadable like readSecrets.
 */
export function secretsDigest(def: FunctionDefinition, key: Buffer): string {
  const secrets = readSecrets(def);
  if (secrets.size === 0) return '';
  const h = createHmac('sha256', key);
  h.update('faas-secrets-v1\0');
  for (const [name, data] of secrets) h.update(`${name}\0${data.length}\0`).update(data);
  return h.digest('hex').slice(0, 16);
}

/**
 * The key of secretsDigest: 32 random bytes kept in <secretsDir>/digest.key (0600), made on first
 * use and stable across restarts, so digests of unchanged secrets stay equal (adoption) while
 * meaning nothing to whoever sees a version label.
 */
export function secretsDigestKey(secretsDir: string): Buffer {
  fs.mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const file = path.join(secretsDir, 'digest.key');
  try {
    fs.writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Already there (an earlier run or another stack): that key is the one to keep using.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return fs.readFileSync(file);
}
