/**
 * xds-server: Envoy xDS control plane (ADS, SotW and delta) plus the orchestrator's HTTP
 * control API. startXdsServer() is the programmatic entry used by main.ts, tests and the
 * stack launcher.
 */
import { createLogger, type Logger } from '@faas/contracts';
import { startAdsServer, type AdsServer } from './ads-server';
import { ControlPlane } from './control-plane';
import { startHttpApi, type HttpApi } from './http-api';
import { redisDesiredStore, type DesiredStore } from './persistence';
import type { BuilderHooks } from './resources';
import type { XdsEvent } from './router-stream';

export interface XdsServerOptions {
  host?: string;            // bind address for both servers, default '127.0.0.1'
  grpcPort?: number;        // 0 = ephemeral; default 0
  httpPort?: number;        // control API, 0 = ephemeral; default 0
  routerAddress?: string;   // socket listener address put into LDS, default '0.0.0.0'
  routerPort?: number;      // socket listener port put into LDS, default 10000
  redisUrl?: string;        // optional persistence of desired state
  stack?: string;           // for redisKeys(stack), default 'default'
  logger?: Logger;
  /** The shared internal secret (contracts' loadInternalToken()) every /v1 API call must send. */
  internalToken: string;
  /** Test-only: transforms applied by the resource builder (e.g. inject a resource to be NACKed). */
  builderHooks?: BuilderHooks;
  /** Observability/test hook: every response, ACK, NACK, stream open/close, snapshot. */
  onEvent?: (e: XdsEvent) => void;
  /** Updates arriving within this many ms become one snapshot; default 2. */
  debounceMs?: number;
}

export interface XdsServerHandle {
  grpcPort: number;
  httpPort: number;
  close(): Promise<void>;
  /** The live control plane (tests, benchmarks). */
  controlPlane: ControlPlane;
}

export async function startXdsServer(opts: XdsServerOptions): Promise<XdsServerHandle> {
  const logger = opts.logger ?? createLogger('xds-server');
  const host = opts.host ?? '127.0.0.1';
  const store: DesiredStore | undefined = opts.redisUrl ? redisDesiredStore(opts.redisUrl, opts.stack ?? 'default', logger) : undefined;
  const cp = new ControlPlane({
    routerAddress: opts.routerAddress ?? '0.0.0.0',
    routerPort: opts.routerPort ?? 10000,
    logger,
    ...(store ? { store } : {}),
    ...(opts.builderHooks ? { builderHooks: opts.builderHooks } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.debounceMs !== undefined ? { debounceMs: opts.debounceMs } : {}),
  });
  if (store) {
    try {
      const n = await cp.loadFromStore();
      logger.info('desired_state_loaded', { functions: n });
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  let ads: AdsServer | undefined;
  let api: HttpApi | undefined;
  try {
    ads = await startAdsServer(cp, host, opts.grpcPort ?? 0, logger);
    api = await startHttpApi(cp, host, opts.httpPort ?? 0, logger, opts.internalToken);
  } catch (err) {
    // Close what was opened (in reverse), so a failed start leaves no socket or Redis client.
    const cleanup: (() => Promise<void>)[] = [];
    if (api) cleanup.push(() => api!.close());
    cleanup.push(() => cp.close());
    if (ads) cleanup.push(() => ads!.close());
    if (store) cleanup.push(() => store.close());
    for (const c of cleanup) {
      await c().catch((e: Error) => logger.warn('start_cleanup_failed', { message: e.message }));
    }
    logger.error('start_failed', { message: (err as Error).message });
    throw err;
  }
  const [adsSrv, apiSrv] = [ads, api];
  let closing: Promise<void> | undefined;
  return {
    grpcPort: adsSrv.port,
    httpPort: apiSrv.port,
    controlPlane: cp,
    close: () =>
      (closing ??= (async () => {
        await apiSrv.close();
        await cp.close();
        await adsSrv.close();
        if (store) await store.close();
      })()),
  };
}

export { ControlPlane } from './control-plane';
export type { ControlPlaneOptions } from './control-plane';
export type { XdsEvent, Protocol, SyncState } from './router-stream';
export { RouterStream } from './router-stream';
export { NodeRejections, rejectedNames, mentions, type Rejection } from './rejections';
export * from './resources';
export * from './snapshot';
export { validateSpec, validateFunctionName, parseWaitMs } from './control-api-input';
export { ControlApiFailure, InvalidSpecError, ListenError } from './errors';
export { TYPE_URLS, RESOURCE_TYPES, PROTO_FILES, PROTO_INCLUDE_DIRS, PROTO_LOADER_OPTIONS, packageDefinition, adsServiceDefinition, resourceTypeOfUrl } from './proto';
export type { ResourceType } from './proto';
export { createApp } from './http-api';
