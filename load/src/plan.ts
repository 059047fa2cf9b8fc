/**
 * The load plan: what rate is offered in which second. Pure.
 *   --ramp 0:50:30s,50:0:30s   segments from-rate:to-rate:duration, rate linear within a segment
 *   --rate 20 --duration 30s   one flat segment (a step is a segment whose from and to are equal)
 */
import { FaasError } from '@faas/contracts';

export class LoadOptionError extends FaasError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('invalid_option', message, context);
  }
}

export interface Segment {
  fromRps: number;
  toRps: number;
  durationMs: number;
}

/** Offered rate and duration bounds: a load script for one machine, not a flood. */
export const MAX_RPS = 10_000;
export const MAX_DURATION_MS = 3_600_000;

/** "30s", "500ms", "2m", "1.5s"; a bare number is seconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new LoadOptionError(`${what} ${JSON.stringify(text)} is not a duration like 30s, 500ms or 2m`, { value: text });
  const n = Number(m[1]);
  const ms = m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
  if (!(ms > 0) || ms > MAX_DURATION_MS) throw new LoadOptionError(`${what} ${text} must be more than 0 and at most 1h`, { value: text });
  return Math.round(ms);
}

export function parseRate(text: string, what: string): number {
  if (!/^\d+(?:\.\d+)?$/.test(text.trim())) throw new LoadOptionError(`${what} ${JSON.stringify(text)} is not a number of requests per second`, { value: text });
  const r = Number(text);
  if (r > MAX_RPS) throw new LoadOptionError(`${what} ${text} is above the maximum of ${MAX_RPS} requests/s`, { value: text });
  return r;
}

export function parseRamp(text: string): Segment[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) throw new LoadOptionError('--ramp needs at least one from:to:duration segment, e.g. 0:50:30s', {});
  const segs = parts.map((p) => {
    const f = p.split(':');
    if (f.length !== 3) throw new LoadOptionError(`--ramp segment ${JSON.stringify(p)} must be from-rate:to-rate:duration, e.g. 0:50:30s`, { segment: p });
    return { fromRps: parseRate(f[0] ?? '', '--ramp rate'), toRps: parseRate(f[1] ?? '', '--ramp rate'), durationMs: parseDuration(f[2] ?? '', '--ramp duration') };
  });
  if (totalMs(segs) > MAX_DURATION_MS) throw new LoadOptionError('--ramp lasts more than 1h in total', {});
  return segs;
}

export function totalMs(segs: readonly Segment[]): number {
  return segs.reduce((a, s) => a + s.durationMs, 0);
}

/** Offered rate at `tMs` since the start; 0 after the plan ends. */
export function rateAt(segs: readonly Segment[], tMs: number): number {
  let start = 0;
  for (const s of segs) {
    if (tMs < start + s.durationMs) return s.fromRps + ((s.toRps - s.fromRps) * (tMs - start)) / s.durationMs;
    start += s.durationMs;
  }
  return 0;
}

/**
 * Send times (ms since start) of every request of the plan: arrivals at the instantaneous
 * rate, found by integrating the rate in 1 ms steps (exact enough for rates up to MAX_RPS and
 * deterministic, so tests can list them). Stops at `maxRequests`.
 */
export function sendTimes(segs: readonly Segment[], maxRequests: number): number[] {
  const out: number[] = [];
  const end = totalMs(segs);
  let owed = 0;
  for (let t = 0; t < end && out.length < maxRequests; t++) {
    owed += rateAt(segs, t + 0.5) / 1000;
    while (owed >= 1 - 1e-9 && out.length < maxRequests) {
      out.push(t);
      owed -= 1;
    }
  }
  return out;
}

/** Offered requests per whole second of the plan (index = second). */
export function offeredPerSecond(times: readonly number[], totalDurationMs: number): number[] {
  const out = new Array<number>(Math.ceil(totalDurationMs / 1000)).fill(0);
  for (const t of times) {
    const s = Math.floor(t / 1000);
    if (s < out.length) out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}
