/**
 * The native stack on loopback: Redis, xds-server, statsd-listener, the Envoy stand-in,
 * redis-rest, orchestrator and the nginx gateway, each a real process. Used by `npm run stack`
 * and by the end-to-end tests (each test stack gets its own ports and FAAS_STACK id).
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import Docker from 'dockerode';
import { DEFAULT_PORTS, LABELS } from '@faas/contracts';
import { startGateway } from '@faas/gateway-openresty';
import { freePort } from '@faas/stack';
import { type LineSink, type ManagedProcess, startNodeProcess } from './processes';
import { type RedisProcess, startRedis } from '@faas/stack';

export interface StackPorts {
  gateway: number;
  router: number;
  xdsGrpc: number;
  xdsHttp: number;
  redisRest: number;
  statsd: number;
  redis: number;
}

export interface StackOptions {
  root: string;
  stack: string;
  /** Fixed ports (npm run stack) or free ones (tests, when omitted). */
  ports?: StackPorts;
  definitionsFile?: string;
  baseImage?: string;
  gatewayWorkers?: number;
  wakeTimeoutMs?: number;
  sink: LineSink;
  /** Extra env for the orchestrator (e.g. FAAS_STATS_INTERVAL_MS). */
  orchestratorEnv?: NodeJS.ProcessEnv;
  /** Extra env for every component (e.g. FAAS_LOG_LEVEL). */
  env?: NodeJS.ProcessEnv;
  /**
   * Called when a component exits while the stack is running (not during stop() or an
   * orchestrator restart). It is also logged through the sink as component_exited.
   */
  onComponentExit?: (exit: ComponentExit) => void;
}

export interface ComponentExit {
  component: string;
  code: number | null;
  signal: string | null;
}

export interface Stack {
  ports: StackPorts;
  redisUrl: string;
  stack: string;
  /**
   * Stop a Node component (e.g. "orchestrator", "xds-server") with SIGTERM, or SIGKILL to
   * simulate a crash that leaves its containers behind, and start it again with the same settings.
   */
  restart(component: string, how: 'graceful' | 'crash'): Promise<void>;
  /** Process id of a running component (by its sink name, e.g. "statsd-listener"). */
  pid(component: string): number | undefined;
  stop(): Promise<void>;
}

export async function freeStackPorts(): Promise<StackPorts> {
  const [gateway, router, xdsGrpc, xdsHttp, redisRest, statsd, redis] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  return { gateway: gateway!, router: router!, xdsGrpc: xdsGrpc!, xdsHttp: xdsHttp!, redisRest: redisRest!, statsd: statsd!, redis: redis! };
}

export const NATIVE_PORTS: StackPorts = { ...DEFAULT_PORTS };

/** Remove every container labelled with this stack id: the last safety net against leaks. */
export async function sweepContainers(stack: string): Promise<number> {
  const docker = new Docker();
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  return list.length;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports = opts.ports ?? (await freeStackPorts());
  const dist = (pkg: string) => path.join(opts.root, pkg, 'dist', 'src', 'main.js');
  const started: ManagedProcess[] = [];
  let redis: RedisProcess | undefined;
  let gateway: { stop(): Promise<void> } | undefined;
  const common: NodeJS.ProcessEnv = { FAAS_STACK: opts.stack, ...opts.env };
  let stopping = false;
  /** Children we are stopping on purpose: their exit is not news. */
  const expected = new WeakSet<object>();

  // A component that dies on its own leaves the stack half working: say so loudly.
  const watch = (component: string, exited: Promise<{ code: number | null; signal: string | null }>, handle: object) => {
    void exited.then(({ code, signal }) => {
      if (stopping || expected.has(handle)) return;
      opts.sink('stack', JSON.stringify({ event: 'component_exited', level: 'error', component, code, signal }));
      opts.onComponentExit?.({ component, code, signal });
    });
  };
  const watchProcess = (p: ManagedProcess) =>
    watch(p.name, new Promise((resolve) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) resolve({ code: p.child.exitCode, signal: p.child.signalCode });
      else p.child.once('exit', (code, signal) => resolve({ code, signal }));
    }), p.child);

  const stop = async () => {
    stopping = true;
    await gateway?.stop().catch(() => undefined);
    // Reverse order: the orchestrator removes its containers while routers and Redis still run.
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
    const leaked = await sweepContainers(opts.stack).catch(() => 0);
    if (leaked > 0) opts.sink('stack', JSON.stringify({ event: 'swept_leaked_containers', count: leaked }));
    await redis?.stop();
  };

  try {
    redis = await startRedis({ port: ports.redis });
    const redisUrl = redis.url;
    const launch = new Map<string, () => Promise<ManagedProcess>>();
    const run = async (name: string, pkg: string, env: NodeJS.ProcessEnv) => {
      const start = () => startNodeProcess(name, dist(pkg), { ...common, REDIS_URL: redisUrl, ...env }, opts.sink);
      launch.set(name, start);
      const p = await start();
      started.push(p);
      watchProcess(p);
    };
    await run('xds-server', 'xds-server', {
      XDS_HOST: '127.0.0.1', XDS_GRPC_PORT: String(ports.xdsGrpc), XDS_HTTP_PORT: String(ports.xdsHttp),
      ROUTER_ADDRESS: '127.0.0.1', ROUTER_PORT: String(ports.router),
    });
    await run('statsd-listener', 'statsd-listener', { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(ports.statsd) });
    await run('envoy-standin', 'envoy-standin', {
      STANDIN_BOOTSTRAP: path.join(opts.root, 'envoy', 'envoy.yaml'),
      STANDIN_XDS_ADDRESS: `127.0.0.1:${ports.xdsGrpc}`,
      STANDIN_STATSD_ADDRESS: `127.0.0.1:${ports.statsd}`,
      STANDIN_BIND_ADDRESS: '127.0.0.1',
      STANDIN_NODE_ID: `standin-${opts.stack}`,
    });
    await run('redis-rest', 'redis-rest', { REDIS_REST_HOST: '127.0.0.1', REDIS_REST_PORT: String(ports.redisRest) });
    const orchestratorEnv: NodeJS.ProcessEnv = {
      XDS_URL: `http://127.0.0.1:${ports.xdsHttp}`,
      FAAS_DEFINITIONS: opts.definitionsFile ?? path.join(opts.root, 'global-function-definition.yml'),
      FAAS_BASE_IMAGE: opts.baseImage ?? 'faas-node-base:local',
      ENDPOINT_MODE: 'loopback',
      FAAS_STATSD_ADDRESS: `127.0.0.1:${ports.statsd}`,
      // The orchestrator refuses to start without the internal API token (until the launcher
      // generates one per run for every component, this one is the orchestrator's own).
      FAAS_INTERNAL_TOKEN: common.FAAS_INTERNAL_TOKEN ?? process.env.FAAS_INTERNAL_TOKEN ?? randomBytes(24).toString('hex'),
      ...opts.orchestratorEnv,
    };
    await run('orchestrator', 'orchestrator', orchestratorEnv);
    const restart = async (component: string, how: 'graceful' | 'crash') => {
      const i = started.findIndex((p) => p.name === component);
      const old = started[i];
      const start = launch.get(component);
      if (!old || !start) throw new Error(`${component} is not running`);
      expected.add(old.child);
      if (how === 'crash') {
        const gone = new Promise((r) => old.child.once('exit', r));
        old.child.kill('SIGKILL');
        await gone;
      } else {
        await old.stop();
      }
      const next = await start();
      started.splice(i, 1, next);
      watchProcess(next);
    };
    // The gateway package spawns nginx itself (rendered config, temp prefix dir).
    const gw = await startGateway({
      port: ports.gateway,
      workers: opts.gatewayWorkers ?? 2,
      redisRestPort: ports.redisRest,
      routerPort: ports.router,
      onLog: (line) => opts.sink('gateway', line),
      ...(opts.wakeTimeoutMs !== undefined ? { wakeTimeoutMs: opts.wakeTimeoutMs } : {}),
    });
    gateway = gw;
    watch('gateway', gw.exited.then(() => ({ code: null, signal: null }), () => ({ code: null, signal: null })), gw);
    opts.sink('gateway', JSON.stringify({ event: 'ready', port: ports.gateway }));
    const pid = (component: string) => (component === 'gateway' ? gw.pid : started.find((p) => p.name === component)?.child.pid);
    return { ports, redisUrl, stack: opts.stack, restart, pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
