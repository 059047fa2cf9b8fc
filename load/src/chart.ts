/**
 * The run's chart: offered and achieved rate, latency p50/p99 and instances over time, as a
 * vega-lite spec (pure) rendered offline by vega's SVG renderer, and to PNG by resvg when its
 * prebuilt binary loads on this machine.
 */
import type { SecondRow } from './seconds';

interface Point { t: number; series: string; value: number }

/** Long-form data for the three panels. */
export function chartData(rows: readonly SecondRow[]): { rate: Point[]; latency: Point[]; instances: Point[] } {
  const rate: Point[] = [];
  const latency: Point[] = [];
  const instances: Point[] = [];
  for (const r of rows) {
    const t = r.second;
    rate.push({ t, series: 'offered', value: r.offered }, { t, series: 'achieved', value: r.completed });
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    if (errors > 0) rate.push({ t, series: 'errors', value: errors });
    if (r.p50Ms >= 0) latency.push({ t, series: 'p50', value: r.p50Ms }, { t, series: 'p99', value: r.p99Ms });
    if (r.instances !== undefined) {
      instances.push({ t, series: 'ready', value: r.instances.ready }, { t, series: 'starting', value: r.instances.starting }, { t, series: 'draining', value: r.instances.draining });
    }
  }
  return { rate, latency, instances };
}

/** The vega-lite spec (a plain JSON object). */
export function chartSpec(rows: readonly SecondRow[], title: string): Record<string, unknown> {
  const d = chartData(rows);
  const x = { field: 't', type: 'quantitative', title: 'seconds since start' };
  // Fixed colours per series, so a series keeps its colour whether or not it has points.
  const panel = (values: Point[], yTitle: string, interpolate: string, integer: boolean, colors: Record<string, string>) => ({
    width: 720,
    height: 160,
    data: { values },
    mark: { type: 'line', interpolate, point: values.length < 120 },
    encoding: {
      x,
      y: { field: 'value', type: 'quantitative', title: yTitle, axis: integer ? { format: 'd', tickMinStep: 1 } : {} },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: Object.keys(colors), range: Object.values(colors) } },
    },
  });
  const panels = [
    panel(d.rate, 'requests/s', 'linear', true, { offered: '#9e9e9e', achieved: '#1f77b4', errors: '#d62728' }),
    panel(d.latency, 'latency ms', 'linear', false, { p50: '#1f77b4', p99: '#ff7f0e' }),
  ];
  // Without a token there are no instance figures: say so instead of drawing an empty panel.
  if (d.instances.length > 0) panels.push(panel(d.instances, 'instances', 'step-after', true, { ready: '#2ca02c', starting: '#ff7f0e', draining: '#9467bd' }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: d.instances.length > 0 ? title : { text: title, subtitle: 'instances unknown (no internal token)' },
    background: 'white',
    vconcat: panels,
    resolve: { scale: { color: 'independent' } },
    config: { font: 'DejaVu Sans' },
  };
}

/** SVG text of a vega-lite spec, rendered headless (no canvas, no browser). */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const vl = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG of an SVG, or the reason there is none (resvg's native binary may be missing). */
export async function renderPng(svg: string): Promise<{ png: Buffer } | { reason: string }> {
  try {
    const { Resvg } = await import('@resvg/resvg-js');
    const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
    return { png };
  } catch (err) {
    return { reason: (err as Error).message };
  }
}
