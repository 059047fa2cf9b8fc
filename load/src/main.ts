#!/usr/bin/env node
/** `npm run load -- <fn> [options]`: load through the gateway, one line per second, CSV and chart. */
import * as path from 'node:path';
import { FaasError } from '@faas/contracts';
import { findToken, readInstances } from './instances';
import { USAGE, parseOptions, targetUrl } from './options';
import { LoadOptionError } from './plan';
import { writeReport } from './report';
import { runLoad } from './runner';
import { progressLine } from './seconds';

function outDir(explicit: string | undefined, now: Date): string {
  return explicit ?? path.join('.load', now.toISOString().replace(/[:.]/g, '-'));
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let o;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof LoadOptionError) {
      process.stderr.write(`load: ${err.message} (--help for usage)\n`);
      return 2;
    }
    throw err;
  }
  const { token, reason } = findToken(process.env, process.cwd());
  if (token === undefined) process.stdout.write(`load: instances unknown (${reason ?? 'no token'})\n`);
  const fn = o.fn;
  const stop = new AbortController();
  process.once('SIGINT', () => { process.stdout.write('load: stopping (requests in flight finish first)\n'); stop.abort(); });
  process.stdout.write(`load: ${targetUrl(o)} for ${o.durationMs / 1000}s, at most ${o.maxRequests} requests, ${o.segments === undefined ? `${o.concurrency} workers` : `at most ${o.concurrency} in flight`}\n`);
  const result = await runLoad(o, {
    signal: stop.signal,
    onSecond: (row) => process.stdout.write(`${progressLine(row)}\n`),
    instances: token === undefined ? undefined : () => readInstances(o.redisRest, fn, token).catch(() => undefined), // unknown this second; the next poll retries
  });
  const dir = outDir(o.out, new Date());
  const files = await writeReport(dir, result.rows, `${fn}: ${o.segments === undefined ? `${o.concurrency} workers` : 'offered load'}`);
  const ok = result.rows.reduce((a, r) => a + r.ok, 0);
  process.stdout.write(`load: ${result.sent} sent, ${ok} ok, ${result.sent - ok} not ok${result.stoppedEarly ? ' (stopped early)' : ''}\n`);
  process.stdout.write(`load: wrote ${files.csv}, ${files.svg}${files.png ? `, ${files.png}` : ` (no PNG: ${files.pngSkipped})`}\n`);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  process.stderr.write(`load: ${err instanceof FaasError ? err.message : (err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
