/**
 * The native stack on loopback: Redis, xds-server, statsd-listener, the Envoy stand-in,
 * redis-rest, orchestrator and the nginx gateway, each a real process. Used by `npm run stack`
 * and by the end-to-end tests (each test stack gets its own ports and FAAS_STACK id).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { CALL_SOCKET, DEFAULT_PORTS, LABELS, runId as checkRunId } from '@faas/contracts';
import { startGateway } from '@faas/gateway-openresty';
import { freePort, startRedis } from '@faas/stack';
import type { RestartPolicy } from './backoff';
import { type LineSink, startNodeProcess } from './processes';
import { type Running, type Supervised, supervise } from './supervisor';

export interface StackPorts {
  gateway: number;
  router: number;
  xdsGrpc: number;
  xdsHttp: number;
  redisRest: number;
  statsd: number;
  redis: number;
  /** The orchestrator's GET /v1/status (loopback). */
  status: number;
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
   * Called when a component exits while the stack is running (not during stop() or restart()).
   * The supervisor then restarts it after a back-off (logged as component_exited, then
   * component_restarted; component_crash_loop when it keeps crashing).
   */
  onComponentExit?: (exit: ComponentExit) => void;
  /** Run id (FAAS_RUN_ID, labels containers); a new one per call when omitted. */
  runId?: string;
  /** Shared secret of the internal APIs (FAAS_INTERNAL_TOKEN); a new one per call when omitted. */
  internalToken?: string;
  restartPolicy?: RestartPolicy;
  /** FAAS_SECRETS_DIR of the orchestrator (default <root>/.stack/secrets). */
  secretsDir?: string;
  /**
   * Directory of the gateway's unix socket for call(), mounted read-only into every function
   * container (npm run stack: <state dir>/call); a new one under the temp dir when omitted.
   * Created at start, removed at stop.
   */
  callSocketDir?: string;
}

export interface ComponentExit {
  component: string;
  code: number | null;
  signal: string | null;
}

export interface Stack {
  ports: StackPorts;
  redisUrl: string;
  /** The gateway's unix socket for call() (host path; FAAS_CALL_URL=unix:<this> reaches the stack from the host too). */
  callSocket: string;
  stack: string;
  runId: string;
  internalToken: string;
  /**
   * Stop a component (e.g. "orchestrator", "xds-server", "redis") with SIGTERM, or SIGKILL to
   * simulate a crash that leaves its containers behind, and start it again at once with the
   * same settings (the supervisor's back-off does not apply).
   */
  restart(component: string, how: 'graceful' | 'crash'): Promise<void>;
  /** Process id of a running component (by its sink name, e.g. "statsd-listener", "redis", "gateway"). */
  pid(component: string): number | undefined;
  stop(): Promise<void>;
}

export async function freeStackPorts(): Promise<StackPorts> {
  const [gateway, router, xdsGrpc, xdsHttp, redisRest, statsd, redis, status] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  return { gateway: gateway!, router: router!, xdsGrpc: xdsGrpc!, xdsHttp: xdsHttp!, redisRest: redisRest!, statsd: statsd!, redis: redis!, status: status! };
}

export const NATIVE_PORTS: StackPorts = { ...DEFAULT_PORTS };

/** A new run id: time and randomness, valid for contracts' runId(). */
export function newRunId(): string {
  return checkRunId({ FAAS_RUN_ID: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}` });
}

/** A new shared secret for the internal APIs (256 bits of hex, matches INTERNAL_AUTH.pattern). */
export function newInternalToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Remove every container of this stack *and* this run: the last safety net against leaks. A
 * container of another run (another stack process on the same machine) is never touched.
 */
export async function sweepContainers(stack: string, runId: string, onError?: (id: string, err: unknown) => void): Promise<number> {
  const docker = new Docker();
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.run}=${runId}`] } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch((err: unknown) => onError?.(c.Id, err))));
  return list.length;
}

/** Kill what is left of a process group (nginx workers outlive a killed master). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone, which is the usual case.
  }
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports = opts.ports ?? (await freeStackPorts());
  const runId = opts.runId ?? newRunId();
  const internalToken = opts.internalToken ?? newInternalToken();
  const dist = (pkg: string) => path.join(opts.root, pkg, 'dist', 'src', 'main.js');
  const log = (event: Record<string, unknown>) => opts.sink('stack', JSON.stringify(event));
  const common: NodeJS.ProcessEnv = { FAAS_STACK: opts.stack, FAAS_RUN_ID: runId, FAAS_INTERNAL_TOKEN: internalToken, ...opts.env };
  const redisUrl = `redis://127.0.0.1:${ports.redis}`;
  // Instances' secret files (the orchestrator keeps <dir>/<stack>/<instance>/).
  const secretsDir = opts.secretsDir ?? path.join(opts.root, '.stack', 'secrets');
  // The functions' only path to the platform: the gateway's socket, in a directory of its own
  // (a restarted nginx re-creates the file; the directory is what containers mount).
  const callSocketDir = opts.callSocketDir ?? path.join(os.tmpdir(), `faas-call-${opts.stack}-${runId}`);
  fs.mkdirSync(callSocketDir, { recursive: true, mode: 0o755 });
  fs.chmodSync(callSocketDir, 0o755);
  const callSocket = path.join(callSocketDir, CALL_SOCKET.fileName);
  /** In start order: Redis first, the gateway last. */
  const components: Supervised[] = [];

  const add = async (component: string, start: () => Promise<Running>) => {
    components.push(await supervise({
      component, start, log, policy: opts.restartPolicy,
      onExit: (e) => opts.onComponentExit?.({ component, code: e.code, signal: e.signal }),
    }));
  };
  const node = (name: string, pkg: string, env: NodeJS.ProcessEnv) =>
    add(name, () => startNodeProcess(name, dist(pkg), { ...common, REDIS_URL: redisUrl, ...env }, opts.sink));

  const stop = async () => {
    const [first, ...rest] = components;
    // Reverse order: gateway first; the orchestrator removes its containers while routers and
    // Redis still run; Redis last.
    for (const c of rest.reverse()) {
      await c.stop().catch((err: unknown) => log({ event: 'component_stop_failed', level: 'error', component: c.component, error: String(err) }));
    }
    const leaked = await sweepContainers(opts.stack, runId, (id, err) => log({ event: 'sweep_failed', level: 'error', container: id, error: String(err) }))
      .catch((err: unknown) => { log({ event: 'sweep_failed', level: 'error', error: String(err) }); return 0; });
    if (leaked > 0) log({ event: 'swept_leaked_containers', count: leaked });
    // With the containers gone nothing mounts this stack's secrets (a killed orchestrator left them).
    fs.rmSync(path.join(secretsDir, opts.stack), { recursive: true, force: true });
    await first?.stop();
    fs.rmSync(callSocketDir, { recursive: true, force: true });
  };

  try {
    // Same port on every restart: clients reconnect; data may be lost, the orchestrator re-publishes.
    await add('redis', () => startRedis({ port: ports.redis }));
    await node('xds-server', 'xds-server', {
      XDS_HOST: '127.0.0.1', XDS_GRPC_PORT: String(ports.xdsGrpc), XDS_HTTP_PORT: String(ports.xdsHttp),
      ROUTER_ADDRESS: '127.0.0.1', ROUTER_PORT: String(ports.router),
    });
    await node('statsd-listener', 'statsd-listener', { STATSD_HOST: '127.0.0.1', STATSD_PORT: String(ports.statsd) });
    await node('envoy-standin', 'envoy-standin', {
      STANDIN_BOOTSTRAP: path.join(opts.root, 'envoy', 'envoy.yaml'),
      STANDIN_XDS_ADDRESS: `127.0.0.1:${ports.xdsGrpc}`,
      STANDIN_STATSD_ADDRESS: `127.0.0.1:${ports.statsd}`,
      STANDIN_BIND_ADDRESS: '127.0.0.1',
      STANDIN_NODE_ID: `standin-${opts.stack}`,
    });
    await node('redis-rest', 'redis-rest', { REDIS_REST_HOST: '127.0.0.1', REDIS_REST_PORT: String(ports.redisRest) });
    await node('orchestrator', 'orchestrator', {
      XDS_URL: `http://127.0.0.1:${ports.xdsHttp}`,
      FAAS_DEFINITIONS: opts.definitionsFile ?? path.join(opts.root, 'global-function-definition.yml'),
      FAAS_BASE_IMAGE: opts.baseImage ?? 'faas-node-base:local',
      FAAS_PYTHON_BASE_IMAGE: 'faas-python-base:local',
      ENDPOINT_MODE: 'loopback',
      FAAS_SECRETS_DIR: secretsDir,
      FAAS_CALL_SOCKET_DIR: callSocketDir,
      FAAS_STATSD_ADDRESS: `127.0.0.1:${ports.statsd}`,
      FAAS_STATUS_HOST: '127.0.0.1',
      FAAS_STATUS_PORT: String(ports.status),
      ...opts.orchestratorEnv,
    });
    // The gateway package spawns nginx itself (rendered config, temp prefix dir).
    const gatewayAuth = { internalToken };
    await add('gateway', async () => {
      const gw = await startGateway({
        // Spread, not a literal property: GatewayOptions gains `internalToken` on branch gateway.
        ...gatewayAuth,
        port: ports.gateway,
        workers: opts.gatewayWorkers ?? 2,
        redisRestPort: ports.redisRest,
        routerPort: ports.router,
        callSocket,
        onLog: (line) => opts.sink('gateway', line),
        ...(opts.wakeTimeoutMs !== undefined ? { wakeTimeoutMs: opts.wakeTimeoutMs } : {}),
      });
      opts.sink('gateway', JSON.stringify({ event: 'ready', port: ports.gateway, pid: gw.pid }));
      const exited = gw.exited.then(async () => {
        killGroup(gw.pid);
        await gw.stop(); // removes the prefix dir and the access-log tail of the dead nginx
        return { code: null, signal: null };
      });
      return { pid: gw.pid, exited, kill: (signal) => { if (gw.pid !== undefined) process.kill(gw.pid, signal); }, stop: () => gw.stop() };
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const find = (component: string) => components.find((c) => c.component === component);
  return {
    ports, redisUrl, callSocket, stack: opts.stack, runId, internalToken, stop,
    pid: (component) => find(component)?.pid(),
    async restart(component, how) {
      const c = find(component);
      if (!c) throw new Error(`${component} is not a component of this stack`);
      await c.restart(how);
    },
  };
}
