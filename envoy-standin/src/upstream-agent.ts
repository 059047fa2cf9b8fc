/**
 * The stand-in's one keep-alive pool of upstream connections, with Envoy's drain of a removed
 * host: when EDS removes a host, Envoy drains that host's connection pools — idle connections
 * are closed at once, busy ones once their request completes — and a host that comes back (same
 * address:port) gets fresh connections. Without it a paused-then-thawed function container (same
 * published port) could be sent a request on a pre-pause keep-alive socket that its server is
 * just timing out. A DRAINING host (still in EDS, not routable) keeps its connections, as in Envoy.
 */
import * as http from 'node:http';
import type * as stream from 'node:stream';

export interface DrainResult {
  /** Idle pooled sockets destroyed now. */
  idleClosed: number;
  /** Sockets serving a request now: closed when it completes instead of returning to the pool. */
  activeClosing: number;
}

export class UpstreamAgent extends http.Agent {
  /** Sockets of removed hosts still serving a request: never pooled again. */
  private readonly closing = new WeakSet<stream.Duplex>();

  constructor() {
    // maxSockets unbounded: no request ever waits in the agent's queue, where a released
    // socket would be handed on before keepSocketAlive is asked (so a draining one reused).
    super({ keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' });
  }

  /** Drain the pool of one host (as requests address it: http.request's host and port). */
  drainHost(address: string, port: number): DrainResult {
    const name = this.getName({ host: address, port });
    let idleClosed = 0;
    // A destroyed socket leaves freeSockets in its 'close' handler: iterate a copy.
    for (const s of [...(this.freeSockets[name] ?? [])]) {
      s.destroy();
      idleClosed++;
    }
    let activeClosing = 0;
    for (const s of this.sockets[name] ?? []) {
      this.closing.add(s);
      activeClosing++;
    }
    return { idleClosed, activeClosing };
  }

  /** Called by Node when a request released its socket: false makes the agent destroy it. */
  override keepSocketAlive(socket: stream.Duplex): boolean {
    if (this.closing.has(socket)) return false;
    // @types/node declares void; Node returns whether the socket may be kept (a Keep-Alive hint can say no).
    const keep: unknown = super.keepSocketAlive(socket);
    return keep !== false;
  }
}
