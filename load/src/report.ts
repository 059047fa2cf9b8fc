/** Writes a run's outputs: CSV, vega-lite spec, SVG chart and PNG where resvg loads. */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { chartSpec, renderPng, renderSvg } from './chart';
import { toCsv } from './csv';
import type { SecondRow } from './seconds';

export interface ReportFiles {
  csv: string;
  spec: string;
  svg: string;
  png?: string;
  pngSkipped?: string;
}

export async function writeReport(dir: string, rows: readonly SecondRow[], title: string): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files: ReportFiles = { csv: path.join(dir, 'load.csv'), spec: path.join(dir, 'chart.vl.json'), svg: path.join(dir, 'chart.svg') };
  const spec = chartSpec(rows, title);
  await writeFile(files.csv, toCsv(rows));
  await writeFile(files.spec, `${JSON.stringify(spec, null, 2)}\n`);
  const svg = await renderSvg(spec);
  await writeFile(files.svg, svg);
  const png = await renderPng(svg);
  if ('png' in png) {
    files.png = path.join(dir, 'chart.png');
    await writeFile(files.png, png.png);
  } else {
    files.pngSkipped = png.reason;
  }
  return files;
}
