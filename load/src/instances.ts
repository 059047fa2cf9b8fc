/**
 * The function's instances, read from redis-rest `GET /v1/functions/<fn>` with the internal
 * token. Unknown (undefined) when there is no token, redis-rest is away or the record is bad:
 * the load run goes on without them.
 */
import * as path from 'node:path';
import { request } from 'undici';
import { FunctionStateRecordSchema, INTERNAL_AUTH, authorizationHeader, loadInternalToken } from '@faas/contracts';
import type { Instances } from './seconds';

/** File the native stack writes its per-run token to, relative to the repository root. */
export const STACK_TOKEN_FILE = '.stack/internal-token';

/** The token from FAAS_INTERNAL_TOKEN(_FILE), else from `.stack/internal-token` under `root`; undefined if none. */
export function findToken(env: NodeJS.ProcessEnv, root: string): { token?: string; reason?: string } {
  const fromEnv = env[INTERNAL_AUTH.env] || env[INTERNAL_AUTH.fileEnv];
  try {
    return { token: loadInternalToken(fromEnv ? env : { [INTERNAL_AUTH.fileEnv]: path.join(root, STACK_TOKEN_FILE) }) };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}

/** Instances of a state record; `instances` may be absent (older orchestrator): then ready only. */
export function instancesOf(body: unknown): Instances | undefined {
  const r = FunctionStateRecordSchema.safeParse(body);
  if (!r.success) return undefined;
  const i = r.data.instances;
  return i === undefined ? { ready: r.data.readyInstances, starting: 0, draining: 0 } : { ready: i.ready, starting: i.starting, draining: i.draining };
}

export async function readInstances(redisRest: URL, fn: string, token: string, timeoutMs = 800): Promise<Instances | undefined> {
  const res = await request(`${redisRest.origin}/v1/functions/${encodeURIComponent(fn)}`, {
    headers: authorizationHeader(token),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) return undefined;
  try {
    return instancesOf(JSON.parse(text));
  } catch {
    return undefined; // not JSON: shown as unknown, like any other unusable answer
  }
}
