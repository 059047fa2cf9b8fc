/**
 * Worker thread hosting the benchmark's lightweight SotW ADS clients, so their decode/ACK
 * work runs on its own event loop (like Envoy, a separate process) and the main thread's
 * timings measure the control plane. Protocol (parentPort messages):
 *   in  {op:'start', grpcPort, n, tag}            out {op:'ready'}
 *   in  {op:'wait', clusters, endpoints, routes}  out {op:'done'} | {op:'error', message}
 *   in  {op:'close'}                              (closes the clients, then the worker exits)
 */
import { parentPort } from 'node:worker_threads';
import { SotwAdsClient } from '../test/helpers/ads-client';

type Msg =
  | { op: 'start'; grpcPort: number; n: number; tag: string }
  | { op: 'wait'; clusters: number; endpoints: number; routes: number; timeoutMs: number }
  | { op: 'close' };

const clients: SotwAdsClient[] = [];
const routeCounts = new Map<string, number>();

function routeCount(c: SotwAdsClient): number {
  const h = c.held.route.get('fn_routes');
  if (h === undefined) return 0;
  let n = routeCounts.get(h.hash);
  if (n === undefined) {
    const rc = c.decode<{ virtual_hosts: { routes: unknown[] }[] }>('route', 'fn_routes');
    n = (rc?.virtual_hosts ?? []).reduce((k, vh) => k + vh.routes.length, 0);
    routeCounts.set(h.hash, n);
  }
  return n;
}

const port = parentPort;
if (port === null) throw new Error('client-worker must run as a worker thread');

port.on('message', (m: Msg) => {
  if (m.op === 'start') {
    for (let i = 0; i < m.n; i++) {
      const c = new SotwAdsClient({ grpcPort: m.grpcPort, nodeId: `${m.tag}-${i}`, userAgent: 'xds-bench' });
      c.start();
      clients.push(c);
    }
    Promise.all(clients.map((c) => c.waitFor(() => c.held.listener.size > 0 && c.held.route.size > 0, 15_000, 'initial state'))).then(
      () => port.postMessage({ op: 'ready' }),
      (err: Error) => port.postMessage({ op: 'error', message: err.message }),
    );
  } else if (m.op === 'wait') {
    const done = (c: SotwAdsClient) => (): boolean => c.held.cluster.size === m.clusters && c.held.endpoint.size === m.endpoints && routeCount(c) === m.routes;
    Promise.all(clients.map((c) => c.waitFor(done(c), m.timeoutMs, `${m.clusters} clusters`))).then(
      () => port.postMessage({ op: 'done' }),
      (err: Error) => port.postMessage({ op: 'error', message: err.message }),
    );
  } else {
    for (const c of clients) c.close();
    port.close();
  }
});
