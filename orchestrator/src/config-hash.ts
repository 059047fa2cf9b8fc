/**
 * Which definition a container was created with: a hash of the fields that are baked into
 * the container at create time (limits, runtime env), so adoption can tell an outdated one.
 */
import { createHash } from 'node:crypto';
import type { FunctionDefinition } from '@faas/contracts';

export function containerConfigHash(def: FunctionDefinition): string {
  // Fixed key order and sorted env: equal definitions always give the same hash.
  const relevant = {
    memoryMb: def.memoryMb,
    cpus: def.cpus,
    concurrency: def.concurrency,
    timeoutMs: def.timeoutMs,
    handler: def.handler,
    handlerStyle: def.handlerStyle,
    maxBodyBytes: def.maxBodyBytes,
    env: Object.keys(def.env).sort().map((k) => [k, def.env[k]]),
    pidsLimit: def.pidsLimit,
    // Names only (mounts differ); a changed secret content is a new version (secretsDigest).
    secrets: Object.keys(def.secrets).sort(),
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}
