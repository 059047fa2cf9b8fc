/** Steady load for the failure tests, and waiting on log events with a bound. */
import { EventEmitter, once } from 'node:events';

export interface Load {
  ok(): number;
  failures: string[];
  /** Resolves once `n` more requests have succeeded (rejects after timeoutMs). */
  progress(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `concurrency` clients, each sending one request after the other until stopped. */
export function startLoad(url: string, concurrency: number, expectBody?: string): Load {
  const events = new EventEmitter();
  let ok = 0;
  let running = true;
  const failures: string[] = [];
  const worker = async () => {
    while (running) {
      try {
        const res = await fetch(url);
        const body = await res.text();
        if (res.status === 200 && (expectBody === undefined || body === expectBody)) ok++;
        else failures.push(`${res.status} ${body.slice(0, 200)}`);
      } catch (err) {
        failures.push(`fetch failed: ${String((err as { cause?: unknown }).cause ?? err)}`);
      }
      events.emit('done');
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    ok: () => ok,
    failures,
    async progress(n, timeoutMs = 30_000) {
      const target = ok + n;
      const signal = AbortSignal.timeout(timeoutMs);
      while (ok < target) {
        await once(events, 'done', { signal }).catch((err: unknown) => {
          throw new Error(`only ${ok - target + n} of ${n} requests succeeded within ${timeoutMs} ms (${failures.length} failures)`, { cause: err });
        });
      }
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Log lines of a stack, with a wait for the next line that matches. */
export class LogWatch {
  readonly lines: string[] = [];
  private readonly events = new EventEmitter();

  readonly sink = (component: string, line: string): void => {
    this.lines.push(`${component} ${line}`);
    this.events.emit('line', `${component} ${line}`);
  };

  count(match: (line: string) => boolean): number {
    return this.lines.filter(match).length;
  }

  /** Resolves when `match` has matched `n` lines in all (rejects after timeoutMs). */
  async waitFor(match: (line: string) => boolean, n: number, timeoutMs: number, what: string): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    while (this.count(match) < n) {
      await once(this.events, 'line', { signal }).catch((err: unknown) => {
        throw new Error(`${what}: not seen within ${timeoutMs} ms`, { cause: err });
      });
    }
  }
}

/** A stack line about `component` with this event (the launcher's supervisor lines). */
export const stackEvent = (event: string, component: string) => (line: string): boolean =>
  line.startsWith('stack ') && line.includes(`"event":"${event}"`) && line.includes(`"component":"${component}"`);
