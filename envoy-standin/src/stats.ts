/**
 * Envoy's statsd output, same names and formats: `prefix.name:value|type`, one metric per
 * UDP datagram (hot-shots with no buffer, no tags, no sample rate). Counters are written
 * as the delta since the last flush, on every flush once used; gauges as absolute values
 * each flush; timers (`|ms`) immediately, one per request.
 */
import StatsD from 'hot-shots';
import type { Logger } from '@faas/contracts';

export class Counter {
  value = 0;
  private flushed = 0;
  inc(n = 1): void {
    this.value += n;
  }
  /** Delta since the last call. */
  take(): number {
    const d = this.value - this.flushed;
    this.flushed = this.value;
    return d;
  }
}

export interface StatsSink {
  counter(name: string, delta: number): void;
  gauge(name: string, value: number): void;
  timing(name: string, ms: number): void;
  close(): Promise<void>;
}

/** hot-shots configured to write exactly Envoy's plain statsd lines. */
export function hotShotsSink(host: string, port: number, prefix: string, logger: Logger): StatsSink {
  const client = new StatsD({
    host,
    port,
    prefix: prefix === '' ? '' : `${prefix}.`,
    protocol: 'udp',
    maxBufferSize: 0, // one datagram per metric, like Envoy's UDP sink
    globalTags: [],
    includeDataDogTags: false, // DD_* env vars must not add tags
    sampleRate: 1,
    telegraf: false,
    errorHandler: (err: Error) => logger.debug('statsd_send_failed', { message: err.message }),
  });
  return {
    counter: (name, delta) => client.increment(name, delta),
    gauge: (name, value) => client.gauge(name, value),
    timing: (name, ms) => client.timing(name, ms),
    close: () => new Promise<void>((resolve) => client.close(() => resolve())),
  };
}

/** Registry of counters and gauge readers; flush() writes them all to the sink. */
export class StatsRegistry {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, () => number>();

  constructor(private readonly sink: StatsSink | undefined) {}

  /** Same name, same Counter: hot paths keep the object and only call inc(). */
  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (c === undefined) this.counters.set(name, (c = new Counter()));
    return c;
  }

  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  /** Stop emitting stats under a prefix (a removed cluster). */
  removePrefix(prefix: string): void {
    for (const k of [...this.counters.keys()]) if (k.startsWith(prefix)) this.counters.delete(k);
    for (const k of [...this.gauges.keys()]) if (k.startsWith(prefix)) this.gauges.delete(k);
  }

  timing(name: string, ms: number): void {
    this.sink?.timing(name, ms);
  }

  counterValue(name: string): number {
    return this.counters.get(name)?.value ?? 0;
  }

  flush(): void {
    const sink = this.sink;
    if (!sink) return;
    for (const [name, c] of this.counters) if (c.value !== 0) sink.counter(name, c.take()); // never-used counters are not written
    for (const [name, read] of this.gauges) sink.gauge(name, read());
  }
}
