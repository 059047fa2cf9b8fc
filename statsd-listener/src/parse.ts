/**
 * Statsd line parser. Pure: text in, metrics and reasons for rejected lines out.
 * A datagram may hold several '\n'-separated lines (Envoy's UDP sink batches lines up to its
 * buffer size; DogStatsD does too).
 *   <name>:<value>|<type>[|@<rate>][|#tag,tag]
 * Names may contain ':' (Envoy turns ':' into '_', other emitters may not), so the
 * name/value split is at the LAST ':' before the first '|'.
 */

export type StatsdType = 'c' | 'g' | 'ms' | 'h';

export interface StatsdMetric {
  name: string;
  /** For counters already divided by the sample rate. */
  value: number;
  type: StatsdType;
  /** Gauge written as "+N"/"-N": change the current value instead of setting it. */
  gaugeDelta: boolean;
  sampleRate: number;
  tags: string[];
}

export interface MalformedLine {
  line: string;
  reason: string;
}

export interface ParsedDatagram {
  metrics: StatsdMetric[];
  malformed: MalformedLine[];
  /** Non-empty lines seen. */
  lines: number;
}

const TYPES: ReadonlySet<string> = new Set(['c', 'g', 'ms', 'h']);
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Larger magnitudes lose integer precision and could overflow sums: no real stat gets there. */
const MAX_MAGNITUDE = Number.MAX_SAFE_INTEGER;

/** Parse one line; a string result is the reason it was rejected. */
export function parseLine(line: string): StatsdMetric | string {
  const pipe = line.indexOf('|');
  if (pipe < 0) return 'missing "|<type>"';
  const head = line.slice(0, pipe);
  const colon = head.lastIndexOf(':');
  if (colon < 0) return 'missing ":" between name and value';
  const name = head.slice(0, colon);
  if (name.length === 0) return 'empty metric name';
  const valueText = head.slice(colon + 1);
  if (!NUMBER.test(valueText)) return `value ${JSON.stringify(valueText)} is not a number`;
  const fields = line.slice(pipe + 1).split('|');
  const type = fields[0] ?? '';
  if (!TYPES.has(type)) return `unknown type ${JSON.stringify(type)} (expected c, g, ms or h)`;
  let sampleRate = 1;
  let tags: string[] = [];
  for (let i = 1; i < fields.length; i++) {
    const f = fields[i] ?? '';
    if (f.startsWith('@')) {
      const r = Number(f.slice(1));
      if (!NUMBER.test(f.slice(1)) || !(r > 0 && r <= 1)) return `sample rate ${JSON.stringify(f)} must be in (0, 1]`;
      sampleRate = r;
    } else if (f.startsWith('#')) {
      tags = f.length > 1 ? f.slice(1).split(',') : [];
    } else {
      return `unknown field ${JSON.stringify(f)}`;
    }
  }
  let value = Number(valueText);
  if (!Number.isFinite(value)) return `value ${JSON.stringify(valueText)} is not finite`;
  if (Math.abs(value) > MAX_MAGNITUDE) return `value ${valueText} is out of range`;
  const signed = valueText[0] === '+' || valueText[0] === '-';
  // Envoy's counters are per-flush deltas of monotonic counts and its timers are durations.
  if ((type === 'c' || type === 'ms' || type === 'h') && value < 0) return `negative ${type === 'c' ? 'counter' : 'timer'} value ${valueText}`;
  if (type === 'c') value /= sampleRate;
  return { name, value, type: type as StatsdType, gaugeDelta: type === 'g' && signed, sampleRate, tags };
}

export function parseDatagram(text: string): ParsedDatagram {
  const out: ParsedDatagram = { metrics: [], malformed: [], lines: 0 };
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) continue;
    out.lines++;
    const r = parseLine(line);
    if (typeof r === 'string') out.malformed.push({ line: line.length > 200 ? `${line.slice(0, 200)}...` : line, reason: r });
    else out.metrics.push(r);
  }
  return out;
}
