/**
 * The control API's waits: a PUT/DELETE resolves once every connected router runs the
 * target for its function, fails at once on a NACK of it, and always ends by its deadline.
 * Re-checked (checkAll) on every snapshot and every router reply.
 */
import type { RolloutResult, XdsTypeName } from '@faas/contracts';
import { ControlApiFailure } from './errors';
import { RESOURCE_TYPES } from './proto';
import type { RouterStream } from './router-stream';
import type { Snapshot } from './snapshot';

interface Wait {
  fn: string;
  startedAt: number;
  timer: NodeJS.Timeout;
  resolve(r: RolloutResult): void;
  reject(e: ControlApiFailure): void;
}

/**
 * Per type, the version every router has ACKed, when they all ACKed the same one.
 * Versions are numbered per stream (each response gets its own), so with several routers
 * a type usually has no common version and is left out; GET /v1/routers has each router's.
 */
export function commonAckedVersions(routers: readonly RouterStream[]): Partial<Record<XdsTypeName, string>> {
  const out: Partial<Record<XdsTypeName, string>> = {};
  for (const t of RESOURCE_TYPES) {
    const vs = new Set(routers.map((s) => s.ackedVersion(t)));
    const [v] = vs;
    if (vs.size === 1 && typeof v === 'string') out[t] = v;
  }
  return out;
}

/**
 * The routers a wait depends on: the newest stream of each node id. A router that
 * reconnected while its old stream is still open (half-dead: no FIN seen yet) is
 * judged by its new stream, so the stale one cannot make a wait time out. If the newer
 * stream closes, the older one (if still open) counts again.
 */
export function newestPerNode(connected: readonly RouterStream[]): RouterStream[] {
  const newest = new Map<string, RouterStream>();
  for (const s of connected) {
    const cur = newest.get(s.nodeId);
    if (cur === undefined || s.streamId > cur.streamId) newest.set(s.nodeId, s);
  }
  return [...newest.values()];
}

export class RolloutWaits {
  private readonly waits = new Set<Wait>();

  constructor(private readonly connected: () => RouterStream[], private readonly snapshot: () => Snapshot) {}

  wait(fn: string, waitMs: number): Promise<RolloutResult> {
    const startedAt = Date.now();
    return new Promise<RolloutResult>((resolve, reject) => {
      const w: Wait = {
        fn, startedAt, resolve, reject,
        timer: setTimeout(() => {
          this.waits.delete(w);
          const snap = this.snapshot();
          const pending = newestPerNode(this.connected()).filter((s) => s.syncFor(fn, snap).state !== 'synced').map((s) => s.nodeId);
          if (this.connected().length === 0) {
            reject(new ControlApiFailure(503, 'no_router', `no router connected within ${waitMs}ms; the change to ${fn} is stored and will be served when one connects`, { fn }));
          } else {
            reject(new ControlApiFailure(504, 'ack_timeout', `routers ${pending.join(', ')} did not ACK the change to ${fn} within ${waitMs}ms`, { fn, pending }));
          }
        }, waitMs),
      };
      this.waits.add(w);
      this.check(w);
    });
  }

  checkAll(): void {
    for (const w of [...this.waits]) this.check(w);
  }

  private check(w: Wait): void {
    const routers = newestPerNode(this.connected());
    if (routers.length === 0) return;
    const snap = this.snapshot();
    const done = (): void => {
      this.waits.delete(w);
      clearTimeout(w.timer);
    };
    for (const s of routers) {
      const st = s.syncFor(w.fn, snap);
      if (st.state === 'nacked') {
        done();
        w.reject(new ControlApiFailure(502, 'nacked', `router ${s.nodeId} rejected the ${st.type} update for ${w.fn}: ${st.message}`, { fn: w.fn, router: s.nodeId, detail: st.message }));
        return;
      }
      if (st.state !== 'synced') return;
    }
    done();
    w.resolve({
      fn: w.fn, versions: commonAckedVersions(routers), snapshotVersions: { ...snap.versions },
      routers: routers.map((s) => s.nodeId).sort(), elapsedMs: Date.now() - w.startedAt,
    });
  }

  /** Shutdown: every open wait fails with no_router. */
  closeAll(): void {
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.reject(new ControlApiFailure(503, 'no_router', 'xds-server is shutting down', { fn: w.fn }));
    }
    this.waits.clear();
  }
}
