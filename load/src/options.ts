/** Command line of `npm run load -- <fn> [options]`. Pure: argv in, options out, or a LoadOptionError. */
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, isValidFunctionName } from '@faas/contracts';
import { LoadOptionError, MAX_DURATION_MS, type Segment, parseDuration, parseRamp, parseRate } from './plan';

export interface LoadOptions {
  fn: string;
  gateway: URL;
  redisRest: URL;
  /** Open loop (rate or ramp), or closed loop with `concurrency` workers when undefined. */
  segments?: Segment[];
  /** Closed loop: workers; open loop: most requests in flight (further arrivals are skipped). */
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  timeoutMs: number;
  /** Path after /<fn> (starts with "/" or is empty) and query without "?". */
  path: string;
  query: string;
  out?: string;
}

export const USAGE = `usage: npm run load -- <fn> (--rate N [--duration 30s] | --ramp FROM:TO:DUR,... | --concurrency N [--duration 30s])
  [--concurrency N] [--max-requests 100000] [--timeout 30s] [--path /sub/path] [--query ms=200]
  [--gateway http://127.0.0.1:8080] [--redis-rest http://127.0.0.1:7071] [--out .load/<timestamp>/]`;

const MAX_CONCURRENCY = 1024;
const MAX_REQUESTS = 10_000_000;

/** Loopback only: this script must never send load anywhere but this machine. */
export function loopbackUrl(text: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new LoadOptionError(`${what} ${JSON.stringify(text)} is not a URL like http://127.0.0.1:8080`, { value: text });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new LoadOptionError(`${what} must be http:// or https://, got ${u.protocol}`, { value: text });
  const h = u.hostname;
  const loopback = h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
  if (!loopback) throw new LoadOptionError(`${what} host ${h} is not a loopback address (127.0.0.0/8, localhost or [::1])`, { value: text });
  if (u.pathname !== '/' || u.search !== '' || u.username !== '') throw new LoadOptionError(`${what} must be scheme://host:port only, got ${text}`, { value: text });
  return u;
}

function wholeNumber(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new LoadOptionError(`${what} ${JSON.stringify(text)} is not a whole number`, { value: text });
  const n = Number(text);
  if (n < min || n > max) throw new LoadOptionError(`${what} ${text} must be from ${min} to ${max}`, { value: text });
  return n;
}

export function parseOptions(argv: readonly string[]): LoadOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        gateway: { type: 'string' }, 'redis-rest': { type: 'string' }, rate: { type: 'string' }, ramp: { type: 'string' },
        concurrency: { type: 'string' }, duration: { type: 'string' }, 'max-requests': { type: 'string' }, timeout: { type: 'string' },
        path: { type: 'string' }, query: { type: 'string' }, out: { type: 'string' },
      },
    });
  } catch (err) {
    throw new LoadOptionError((err as Error).message.split('\n')[0] ?? 'bad options', {});
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new LoadOptionError(positionals.length === 0 ? 'name the function to load, e.g. npm run load -- sleep --rate 20' : `one function name expected, got ${positionals.join(' ')}`, {});
  const fn = positionals[0] as string;
  if (!isValidFunctionName(fn)) throw new LoadOptionError(`${JSON.stringify(fn)} is not a valid function name`, { fn });
  if (v.rate !== undefined && v.ramp !== undefined) throw new LoadOptionError('give --rate or --ramp, not both', {});
  if (v.ramp !== undefined && v.duration !== undefined) throw new LoadOptionError('--ramp carries its own durations: drop --duration', {});
  const durationMs = v.duration === undefined ? 30_000 : parseDuration(v.duration, '--duration');
  let segments: Segment[] | undefined;
  if (v.ramp !== undefined) segments = parseRamp(v.ramp);
  else if (v.rate !== undefined) {
    const r = parseRate(v.rate, '--rate');
    segments = [{ fromRps: r, toRps: r, durationMs }];
  } else if (v.concurrency === undefined) throw new LoadOptionError('give --rate N, --ramp FROM:TO:DUR,... or --concurrency N', {});
  const path = v.path ?? '';
  if (path !== '' && !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(path)) throw new LoadOptionError(`--path ${JSON.stringify(path)} must start with "/" and hold only URL path characters`, { path });
  const query = (v.query ?? '').replace(/^\?/, '');
  if (!/^[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/.test(query)) throw new LoadOptionError(`--query ${JSON.stringify(v.query)} holds characters that are not allowed in a URL query`, {});
  const opts: LoadOptions = {
    fn,
    gateway: loopbackUrl(v.gateway ?? `http://127.0.0.1:${DEFAULT_PORTS.gateway}`, '--gateway'),
    redisRest: loopbackUrl(v['redis-rest'] ?? `http://127.0.0.1:${DEFAULT_PORTS.redisRest}`, '--redis-rest'),
    concurrency: v.concurrency === undefined ? 256 : wholeNumber(v.concurrency, '--concurrency', 1, MAX_CONCURRENCY),
    durationMs: segments === undefined ? durationMs : segments.reduce((a, s) => a + s.durationMs, 0),
    maxRequests: v['max-requests'] === undefined ? 100_000 : wholeNumber(v['max-requests'], '--max-requests', 1, MAX_REQUESTS),
    timeoutMs: v.timeout === undefined ? 30_000 : Math.min(parseDuration(v.timeout, '--timeout'), MAX_DURATION_MS),
    path,
    query,
  };
  if (segments !== undefined) opts.segments = segments;
  if (v.out !== undefined) opts.out = v.out;
  return opts;
}

/** URL of one request: <gateway>/<fn><path>[?query]. */
export function targetUrl(o: LoadOptions): string {
  return `${o.gateway.origin}/${o.fn}${o.path}${o.query === '' ? '' : `?${o.query}`}`;
}
