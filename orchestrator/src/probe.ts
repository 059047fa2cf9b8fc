/** HTTP probes of a function instance's runtime: readiness and in-flight stats. */
import * as http from 'node:http';
import { FaasError, RUNTIME_PATHS, type RuntimeReady, RuntimeReadySchema, RuntimeStatsSchema } from '@faas/contracts';

export interface InstanceStats {
  inflight: number;
  served: number;
  idleMs: number;
  ready: boolean;
  draining: boolean;
}

// A dedicated keep-alive agent: probes run every second per instance.
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function get(address: string, port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: address, port, path, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.on('error', reject);
  });
}

function readyBody(body: string): RuntimeReady | undefined {
  try {
    const r = RuntimeReadySchema.safeParse(JSON.parse(body));
    return r.success ? r.data : undefined;
  } catch {
    return undefined; // not JSON: treated as not ready, the caller reports it
  }
}

/**
 * Poll the readiness endpoint until it answers 200. `alive` is asked between attempts so a
 * container that died stops the wait at once instead of at the deadline.
 */
export async function waitReady(
  address: string,
  port: number,
  timeoutMs: number,
  alive: () => Promise<boolean> = async () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let attempt = 0;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const r = await get(address, port, RUNTIME_PATHS.ready, 1000);
      if (r.status === 200 && readyBody(r.body)?.ready === true) return;
      last = r.status === 200 ? 'ready answer does not match the runtime contract' : `status ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    attempt += 1;
    if (attempt % 10 === 0 && !(await alive())) {
      throw new FaasError('instance_died', `instance exited before it was ready (${last})`, { address, port });
    }
    // Fast at first (cold start latency), gentler later.
    await new Promise((r) => setTimeout(r, attempt < 100 ? 5 : 50));
  }
  throw new FaasError('readiness_timeout', `instance not ready after ${timeoutMs}ms (${last})`, { address, port });
}

export async function readStats(address: string, port: number, timeoutMs = 1000): Promise<InstanceStats> {
  const r = await get(address, port, RUNTIME_PATHS.stats, timeoutMs);
  if (r.status !== 200) throw new FaasError('stats_failed', `stats answered ${r.status}`, { address, port });
  let v: unknown;
  try {
    v = JSON.parse(r.body);
  } catch {
    throw new FaasError('stats_invalid', 'stats body is not JSON', { address, port });
  }
  const parsed = RuntimeStatsSchema.safeParse(v);
  if (!parsed.success) throw new FaasError('stats_invalid', `stats body does not match the runtime contract: ${parsed.error.issues[0]?.message ?? ''}`, { address, port });
  const { inflight, served, idleMs, ready, draining } = parsed.data;
  return { inflight, served, idleMs, ready, draining };
}

/** How the controller talks to runtimes; injected so tests need no HTTP server. */
export interface RuntimeProbe {
  waitReady(address: string, port: number, timeoutMs: number, alive: () => Promise<boolean>): Promise<void>;
  readStats(address: string, port: number): Promise<InstanceStats>;
}

export const httpProbe: RuntimeProbe = { waitReady, readStats: (a, p) => readStats(a, p) };
