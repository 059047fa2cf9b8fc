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

/** Reads a varint at `pos`; returns [value, next position]. */
function varint(b: Buffer, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (;;) {
    const x = b[pos++]!;
    v += (x & 0x7f) * mul;
    if ((x & 0x80) === 0) return [v, pos];
    mul *= 128;
  }
}

/** Calls `each` for every field of one message (wire format), with its value span. */
function fields(b: Buffer, start: number, end: number, each: (field: number, from: number, to: number) => void): void {
  let pos = start;
  while (pos < end) {
    const [tag, p1] = varint(b, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    let from = p1;
    let to: number;
    if (wire === 0) to = varint(b, p1)[1];
    else if (wire === 1) to = p1 + 8;
    else if (wire === 5) to = p1 + 4;
    else if (wire === 2) {
      const [len, p2] = varint(b, p1);
      from = p2;
      to = p2 + len;
    } else throw new Error(`unexpected wire type ${wire}`);
    each(field, from, to);
    pos = to;
  }
}

/**
 * Routes in an encoded RouteConfiguration (virtual_hosts = 2, VirtualHost.routes = 3),
 * counted on the wire: decoding 2,000 routes into JS objects would make this verifier,
 * not the control plane, the slowest part of the push (a real router parses natively).
 */
function countRoutes(b: Buffer): number {
  let n = 0;
  fields(b, 0, b.length, (f, from, to) => {
    if (f === 2) fields(b, from, to, (vf) => { if (vf === 3) n++; });
  });
  return n;
}

function routeCount(c: SotwAdsClient): number {
  const h = c.state.route.get('fn_routes');
  if (h === undefined) return 0;
  let n = routeCounts.get(h.hash);
  if (n === undefined) {
    n = countRoutes(h.bytes);
    routeCounts.set(h.hash, n);
  }
  return n;
}

const port = parentPort;
if (port === null) throw new Error('client-worker must run as a worker thread');

port.on('message', (m: Msg) => {
  if (m.op === 'start') {
    for (let i = 0; i < m.n; i++) {
      // Few responses kept: each holds a whole snapshot's bytes.
      clients.push(new SotwAdsClient(m.grpcPort, { nodeId: `${m.tag}-${i}`, userAgent: 'xds-bench' }, { history: 8 }).start());
    }
    Promise.all(clients.map((c) => c.until((x) => x.state.listener.size > 0 && x.state.route.size > 0, 'initial state', 15_000))).then(
      () => port.postMessage({ op: 'ready' }),
      (err: Error) => port.postMessage({ op: 'error', message: err.message }),
    );
  } else if (m.op === 'wait') {
    const done = (c: SotwAdsClient): boolean => c.state.cluster.size === m.clusters && c.state.endpoint.size === m.endpoints && routeCount(c) === m.routes;
    Promise.all(clients.map((c) => c.until(done, `${m.clusters} clusters`, m.timeoutMs))).then(
      () => port.postMessage({ op: 'done' }),
      (err: Error) => port.postMessage({ op: 'error', message: err.message }),
    );
  } else {
    for (const c of clients) c.close();
    port.close();
  }
});
