/** CSV of the per-second rows. Pure. Every field is a number or a quote-free token, so no escaping. */
import { type SecondRow, formatErrors } from './seconds';

export const CSV_COLUMNS = [
  'second', 'offered_rps', 'sent', 'skipped', 'achieved_rps', 'ok', 'errors', 'errors_by_status',
  'p50_ms', 'p99_ms', 'inflight', 'instances_ready', 'instances_starting', 'instances_draining',
] as const;

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));

export function toCsv(rows: readonly SecondRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    const inst = r.instances === undefined ? ['', '', ''] : [r.instances.ready, r.instances.starting, r.instances.draining].map(String);
    lines.push([
      String(r.second), String(r.offered), String(r.sent), String(r.skipped), String(r.completed), String(r.ok), String(errors),
      formatErrors(r.errors), r.p50Ms < 0 ? '' : num(r.p50Ms), r.p99Ms < 0 ? '' : num(r.p99Ms), String(r.inflight), ...inst,
    ].join(','));
  }
  return `${lines.join('\n')}\n`;
}
