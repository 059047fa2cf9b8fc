/** Summary figures for benchmark samples. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Summary { n: number; median: number; p99: number; min: number; max: number; mean: number }

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { n: s.length, median: q(0.5), p99: q(0.99), min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / (s.length || 1) };
}

export function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : 'n/a';
}

/** One printed line: name, count, median and p99 (the benchmarks' table row). */
export function row(name: string, samples: readonly number[], width = 34): string {
  const s = summarize(samples);
  return `${name.padEnd(width)} n=${String(s.n).padEnd(5)} median=${fmt(s.median).padStart(8)} ms   p99=${fmt(s.p99).padStart(8)} ms`;
}

/** Print the table and keep the raw figures in <root>/.bench/<file>. */
export function printAndSave(root: string, file: string, lines: readonly string[], data: unknown): void {
  process.stdout.write(`${lines.join('\n')}\n`);
  fs.mkdirSync(path.join(root, '.bench'), { recursive: true });
  fs.writeFileSync(path.join(root, '.bench', file), JSON.stringify(data, null, 2));
}
