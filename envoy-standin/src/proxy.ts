/**
 * The HTTP/1.1 data path, downstream side: give the request an id, route it, answer locally
 * when there is no route, cluster or healthy host, else hand it to an Exchange (exchange.ts:
 * circuit breaker, upstream attempts, retries, timeout, response). Kept lean: a few small
 * objects per request, no logging on the hot path except the optional buffered access log.
 */
import type * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ClusterRuntime } from './cluster-runtime';
import { Exchange, type ExchangeContext } from './exchange';
import { logAccess } from './forwarding';
import type { ListenerModel, RouteTable } from './model';
import { REPLIES, localReply } from './own-replies';
import { matchRoute } from './route-match';

export interface ProxyContext extends ExchangeContext {
  routes: ReadonlyMap<string, RouteTable>;
  clusters: ReadonlyMap<string, ClusterRuntime>;
}

/** Per bound listener: its current model and the in-flight downstream count. */
export interface ListenerRuntime {
  model: ListenerModel;
  downstreamActive: number;
}

export function handleRequest(ctx: ProxyContext, lr: ListenerRuntime, req: http.IncomingMessage, res: http.ServerResponse): void {
  lr.downstreamActive++;
  res.once('close', () => { lr.downstreamActive--; });
  let rid = req.headers['x-request-id'];
  if (typeof rid !== 'string' || rid === '') {
    rid = randomUUID();
    req.headers['x-request-id'] = rid;
  }
  const m = lr.model;
  const table = m.inlineRoutes ?? (m.routeConfigName !== undefined ? ctx.routes.get(m.routeConfigName) : undefined);
  const d = table !== undefined ? matchRoute(table, req.headers.host, req.url ?? '/') : undefined;
  if (d === undefined) {
    logAccess(ctx.accessLog, req, localReply(res, m.localReply, REPLIES.noRoute, req, undefined), '-', 0, rid);
    return;
  }
  const cluster = ctx.clusters.get(d.route.cluster);
  if (cluster === undefined) {
    logAccess(ctx.accessLog, req, localReply(res, m.localReply, REPLIES.noCluster, req, undefined), d.route.cluster, 0, rid);
    return;
  }
  if (cluster.healthy.length === 0) {
    cluster.cNoneHealthy.inc();
    logAccess(ctx.accessLog, req, localReply(res, m.localReply, REPLIES.noHealthy, req, cluster), cluster.name, 0, rid);
    return;
  }
  new Exchange(ctx, cluster, d.route, d.upstreamPath, req, res, rid, m.localReply).start();
}
