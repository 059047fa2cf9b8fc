/**
 * Wiring of the orchestrator: definitions -> images -> adopted containers -> routers and
 * gateways registered -> wakes served, idle instances removed, dead ones withdrawn.
 */
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import { FaasError, type FunctionDefinition, type FunctionStatus, type Logger, createLogger, loadDefinitionFile, redisKeys } from '@faas/contracts';
import type { DecideScale } from './autoscaler/types';
import { adoptOrRemove, drainLeftovers } from './adopt';
import { type FleetEnv, addController, applyDefinitions, buildFor, fleetStatus } from './apply';
import type { OrchestratorConfig } from './config';
import { SandboxPool } from './network-sandboxes';
import { DockerDriver, type ExitInfo, type InstanceDriver, newInstanceId } from './docker-driver';
import { FunctionController } from './function-controller';
import { ImageCache } from './image-cache';
import { ensureFunctionImage, imageOptions, removeStaleImages } from './images';
import { pruneFunctionImages, releaseImageClaims } from './image-prune';
import { type DemandAlertSubscription, subscribeDemandAlerts } from './demand-alerts';
import { createMetrics } from './metrics';
import { readAllMetrics } from './metrics-reader';
import { missedExits } from './missed-exits';
import { RedisFailureRecorder } from './instance-failures';
import { httpProbe } from './probe';
import { listenRedisErrors } from './redis-errors';
import { reconcileRoutes } from './route-reconcile';
import { dockerVisiblePath } from './host-path';
import { SecretMounts } from './secret-mounts';
import { checkSecretsAtStart, sweepSecrets } from './secrets-lifecycle';
import type { FunctionRollouts } from './rollout';
import { StateStore } from './state';
import { TickLoop } from './tick-loop';
import { parseWake } from './wake';
import { WarmPool } from './warm-pool';
import { XdsClient } from './xds-client';

export interface OrchestratorOptions extends OrchestratorConfig {
  docker?: Docker;
  logger?: Logger;
  /** host:port for the platform's own statsd metrics. */
  statsdAddress?: string;
  /** Shared secret for xds-server's API (internal-auth.ts). */
  internalToken: string;
  /** The autoscaler (autoscaler/decide.ts; injected so the wiring does not pick one). */
  decideScale: DecideScale;
  /** Already validated definitions (else read from definitionsFile). */
  definitions?: FunctionDefinition[];
  /** LABELS.run on every container ('' leaves it out). */
  runId?: string;
}

export interface OrchestratorHandle {
  functions(): string[];
  controller(fn: string): FunctionController | undefined;
  /** Apply a new, valid set of definitions while serving (apply.ts); resolves when every change was applied or failed. */
  apply(defs: FunctionDefinition[]): Promise<void>;
  functionStatus(): FunctionStatus[];
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A definition whose image failed to build is built again this long after the failure at the earliest. */
const BUILD_RETRY_MS = 10_000;

async function waitForXds(xds: XdsClient, log: Logger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let logged = false;
  while (!(await xds.healthy())) {
    if (Date.now() > deadline) throw new Error(`xds-server not reachable after ${timeoutMs}ms`);
    if (!logged) log.info('waiting_for_xds_server');
    logged = true;
    await sleep(200);
  }
}

export async function startOrchestrator(opts: OrchestratorOptions): Promise<OrchestratorHandle> {
  const log = opts.logger ?? createLogger('orchestrator');
  // The definition file is validated first: an invalid file refuses start-up, naming the problem.
  const defs: FunctionDefinition[] = opts.definitions ?? loadDefinitionFile(opts.definitionsFile);
  const docker = opts.docker ?? new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new FaasError('docker_unreachable', `cannot reach the Docker engine: ${(err as Error).message}`, {}, { cause: err });
  }
  const keys = redisKeys(opts.stack);
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 3 });
  const sub = new Redis(opts.redisUrl);
  listenRedisErrors(redis, 'main', log);
  listenRedisErrors(sub, 'subscriber', log);
  const state = new StateStore(redis, keys, opts.stack, (what, err) => log.warn('redis_write_failed', { what, error: err }));
  const xds = new XdsClient(opts.xdsUrl, opts.ackTimeoutMs, opts.internalToken);
  const metrics = createMetrics(opts.statsdAddress);
  const secretMounts = new SecretMounts({ dir: opts.secretsDir, hostDir: () => dockerVisiblePath(docker, opts.secretsDir, opts.secretsHostDir), stack: opts.stack, log });
  // Per definition object: a rollout's new definition gets its own build, an unchanged one is cached.
  // A failed build is retried by a later wake, BUILD_RETRY_MS after the failure at the earliest.
  const images = new ImageCache(
    (def) => ensureFunctionImage(docker, def, imageOptions(opts, log)).then((r) => r.tag),
    (forget) => setTimeout(forget, BUILD_RETRY_MS).unref(),
  );
  const image = (def: FunctionDefinition) => images.tag(def);
  const sandboxes = new SandboxPool({
    docker, image: opts.sandboxImage, size: opts.sandboxPool, log,
    ctx: { stack: opts.stack, run: opts.runId ?? '', mode: opts.endpointMode, network: opts.network },
  });
  const dockerDriver = new DockerDriver(docker, opts.stack, opts.endpointMode, opts.network, log, opts.runId ?? '', secretMounts, opts.call, (def, missing) => images.rebuild(def, missing), sandboxes);
  const driver: InstanceDriver = dockerDriver;

  const failures = new RedisFailureRecorder(redis, opts.stack);
  const controllers = new Map<string, FunctionController>();
  const warmPool = new WarmPool(opts.pausedBudgetMb);
  const fleet: FleetEnv = {
    controllers, rollouts: new Map<string, FunctionRollouts>(), retiring: new Map(), image, log, xds, state,
    newController: (def) => new FunctionController(def, {
      driver, xds, state, metrics, log, image, probe: httpProbe, decideScale: opts.decideScale,
      now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), newInstanceId, drainPollMs: 25,
      readinessTimeoutMs: opts.readinessTimeoutMs, gatewayGraceMs: opts.gatewayGraceMs, failures, warmPool,
      pruneImages: (fn, keep) => pruneFunctionImages(docker, fn, keep, { stack: opts.stack, logger: log }),
    }),
  };
  for (const def of defs) addController(fleet, def);
  const requested = new Map(defs.map((d) => [d.name, d]));
  // Functions being removed still own their containers and router state until they are gone.
  const owned = () => [...controllers.values(), ...[...fleet.retiring.values()].map((r) => r.ctl)];
  const byContainer = (containerId: string) => owned().find((c) => c.set.byContainer(containerId) !== undefined);
  const quietly = (what: string) => (err: unknown) => log.warn('shutdown_step_failed', { what, error: err });

  let stopWatch: () => void = () => undefined;
  const ticks = new TickLoop({
    controllers, readMetrics: (fns) => readAllMetrics(redis, keys, fns), intervalMs: opts.statsIntervalMs, log,
    // A start that raced a rollout's switch can leave an old-version instance: drained here.
    afterTick: (fn) => void fleet.rollouts.get(fn)?.sweepStale().catch((err: unknown) => log.error('stale_sweep_failed', { fn, error: err })),
  });
  let alerts: DemandAlertSubscription | undefined;
  let reconcileTimer: NodeJS.Timeout | undefined;
  let closing = false;

  const close = async () => {
    if (closing) return;
    closing = true;
    ticks.stop();
    await alerts?.close();
    if (reconcileTimer) clearInterval(reconcileTimer);
    stopWatch();
    for (const r of fleet.rollouts.values()) r.cancel();
    await sub.quit().catch(quietly('redis subscriber quit'));
    await Promise.all([...fleet.retiring.values()].map((r) => r.done));
    await Promise.all([...controllers.values()].map((c) => c.close().catch((err) => log.error('shutdown_failed', { fn: c.def.name, error: err }))));
    // Last sweep: whatever this stack still owns goes.
    const left = await driver.listOwned().catch((err: unknown) => {
      log.error('container_sweep_failed', { error: err });
      return [];
    });
    for (const c of left) await driver.stop(c.containerId, 0).catch((err: unknown) => log.error('container_leak', { fn: c.fn, containerId: c.containerId, error: err }));
    await sandboxes.close().catch((err: unknown) => log.error('sandbox_sweep_failed', { error: err }));
    await secretMounts.removeStackDir().catch(quietly('secrets directory removal'));
    // A stopped stack holds no image from other stacks' pruning (image-prune.ts).
    await releaseImageClaims(docker, opts.stack, log).catch(quietly('image claims release'));
    await state.stopHeartbeat();
    await metrics.close();
    await redis.quit().catch(quietly('redis quit'));
    log.info('stopped');
  };

  try {
    log.info('starting', { stack: opts.stack, functions: defs.map((d) => d.name), endpointMode: opts.endpointMode });
    await checkSecretsAtStart(defs, secretMounts, log);
    // Images first (two at a time), so adoption can compare against the current build.
    const built = new Map<string, string | undefined>();
    const queue = [...defs];
    await Promise.all([0, 1].map(async () => {
      for (let d = queue.shift(); d; d = queue.shift()) built.set(d.name, await buildFor(fleet, controllers.get(d.name)!, fleet.rollouts.get(d.name)!));
    }));
    const { adopted, removed } = await adoptOrRemove(driver, controllers, built, log);
    log.info('containers_reconciled', { adopted, removed });
    // After adoption (it maps containers to their sandboxes): a crashed run's idle ones go.
    await sandboxes.start(dockerDriver.referencedSandboxes()).catch((err: unknown) => log.warn('sandbox_sweep_failed', { error: err }));
    await sweepSecrets(driver, secretMounts, log);
    // Old builds of our functions pile up otherwise (each removal is logged as image_removed).
    // Housekeeping only: never a reason not to start.
    try {
      const stale = await removeStaleImages(docker, defs, imageOptions(opts, log));
      if (stale.length > 0) log.info('stale_images_removed', { count: stale.length });
    } catch (err) {
      log.warn('stale_image_cleanup_failed', { error: err });
    }

    await waitForXds(xds, log, 30_000);
    for (const stale of await xds.list()) {
      if (!controllers.has(stale.name)) await xds.remove(stale.name).catch((err) => log.warn('xds_remove_failed', { fn: stale.name, error: err }));
    }
    for (const name of await state.names()) if (!controllers.has(name)) await state.remove(name);
    await Promise.all([...controllers.values()].map((c) => c.register()));
    for (const c of controllers.values()) void drainLeftovers(c).catch((err: unknown) => log.error('drain_failed', { fn: c.def.name, error: err }));

    const died = (containerId: string, exit?: ExitInfo) => {
      const ctl = byContainer(containerId);
      if (ctl && !closing) void ctl.instanceDied(containerId, exit).catch((err) => log.error('instance_cleanup_failed', { containerId, error: err }));
    };
    // After dockerd restarted, die events of the gap were never delivered: compare instead.
    const reconcileExits = async () => {
      const known = [...controllers.values()].flatMap((c) => c.set.all().flatMap((i) => (i.containerId && i.state !== 'starting' ? [i.containerId] : [])));
      const gone = missedExits(known, await driver.listOwned());
      if (gone.length > 0) log.warn('missed_exits', { containers: gone });
      for (const id of gone) died(id);
    };
    stopWatch = await driver.watchExits(died, () => {
      reconcileExits().catch((err) => log.warn('exit_reconcile_failed', { error: err }));
    });

    await sub.subscribe(keys.wakeChannel);
    sub.on('message', (_channel: string, raw: string) => {
      const parsed = parseWake(raw);
      if (!parsed.ok) {
        log.warn('wake_invalid', { reason: parsed.reason, raw: raw.slice(0, 200) });
        return;
      }
      const { wake: { fn, requestId }, waiting } = parsed;
      const ctl = controllers.get(fn);
      if (!ctl) {
        log.warn('wake_unknown_function', { fn, requestId });
        return;
      }
      if (closing) return;
      ctl.ensureWarm(requestId, waiting).catch((err) => log.error('wake_failed', { fn, requestId, error: err }));
    });

    // Ticks every statsIntervalMs, and at once for a function whose requests queue (tick-loop.ts).
    ticks.start();
    alerts = await subscribeDemandAlerts(opts.redisUrl, keys.demandChannel, (a) => ticks.alert(a), log);

    // Shared state can be lost under us: Redis restarted without persistence (gateways would
    // see no functions and answer 503 forever) or xds-server restarted without its desired
    // state (routers would lose every route). Both are re-established from what we know.
    let reconciling = false;
    const reconcileShared = () => {
      if (reconciling || closing) return;
      reconciling = true;
      void (async () => {
        if (!(await state.hasStates())) {
          log.warn('states_lost_republishing', { functions: controllers.size });
          await Promise.all([...controllers.values()].map((c) => c.republish()));
        }
        // Missing, tampered or left-over router state is pushed again (or removed).
        await reconcileRoutes(new Map(owned().map((c) => [c.def.name, c])), xds, log);
      })().catch((err) => log.warn('reconcile_failed', { error: err })).finally(() => {
        reconciling = false;
      });
    };
    reconcileTimer = setInterval(reconcileShared, opts.reconcileIntervalMs);
    // A Redis that comes back may be a new, empty one: check at once, not at the next round.
    let redisWasDown = false;
    redis.on('close', () => {
      redisWasDown = true;
    });
    redis.on('ready', () => {
      if (!redisWasDown) return;
      redisWasDown = false;
      log.info('redis_reconnected');
      reconcileShared();
    });

    state.startHeartbeat();
    log.info('ready', { functions: defs.length });
  } catch (err) {
    await close().catch((e: unknown) => log.error('shutdown_failed', { error: e }));
    throw err;
  }

  return {
    functions: () => [...controllers.keys()],
    controller: (fn) => controllers.get(fn),
    apply: (next) => (closing ? Promise.resolve() : applyDefinitions(fleet, requested, next)),
    functionStatus: () => fleetStatus(fleet),
    close,
  };
}
