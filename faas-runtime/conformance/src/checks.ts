/** Assertions shared by the suite: the runtime's error JSON and the process it runs in. */
import assert from 'node:assert/strict';
import { CLIENT_ERRORS, type ClientErrorCode, ClientErrorBodySchema } from '@faas/contracts';
import { type RunningRuntime, type RuntimeUnderTest, spawnRuntime, waitReady } from './harness';

/** content-type application/json, status from contracts, {"error","message","fn","requestId"} only. */
export function assertErrorJson(reply: { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer | string }, code: ClientErrorCode, where: { fn: string; requestId?: string }): Record<string, unknown> {
  const text = reply.body.toString();
  assert.equal(reply.status, CLIENT_ERRORS[code].status, `status for ${code}: ${text}`);
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  const parsed = ClientErrorBodySchema.strict().parse(body);
  assert.equal(parsed.error, code);
  assert.equal(parsed.fn, where.fn);
  if (where.requestId !== undefined) assert.equal(parsed.requestId, where.requestId);
  else assert.ok(typeof parsed.requestId === 'string' && parsed.requestId.length > 0);
  return body;
}

export const json = (b: Buffer | string): Record<string, unknown> => JSON.parse(b.toString()) as Record<string, unknown>;

/** Starts runtimes for one describe block and kills what is left at its end. */
export function runtimePool(rt: RuntimeUnderTest): { start(env: Record<string, string>, ready?: boolean): Promise<RunningRuntime>; killAll(): void } {
  const running: RunningRuntime[] = [];
  return {
    async start(env, ready = true) {
      const r = await spawnRuntime(rt, env);
      running.push(r);
      if (ready) await waitReady(r);
      return r;
    },
    killAll() {
      for (const r of running) r.kill();
    },
  };
}
