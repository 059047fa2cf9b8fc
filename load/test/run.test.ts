/**
 * The load loop against a local HTTP server on 127.0.0.1 standing in for the gateway, and a
 * stand-in for redis-rest's state record (with the bearer token): checks the CSV and that the
 * chart renders. Not the whole platform (that is the end-to-end tests' job).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { isAuthorized } from '@faas/contracts';
import { findToken, instancesOf, readInstances } from '../src/instances';
import { parseOptions } from '../src/options';
import { writeReport } from '../src/report';
import { runLoad } from '../src/runner';
import { CSV_COLUMNS } from '../src/csv';

const TOKEN = 'a'.repeat(40);
let gateway: http.Server;
let rest: http.Server;
let dir: string;
let seen = 0;
const paths = new Set<string>();

const listen = (s: http.Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'faas-load-'));
  gateway = http.createServer((req, res) => {
    const n = ++seen;
    paths.add(req.url ?? '');
    // Every 5th request fails, so errors by status show up in the CSV.
    setTimeout(() => { res.writeHead(n % 5 === 0 ? 503 : 200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); }, 5);
  });
  rest = http.createServer((req, res) => {
    if (!isAuthorized(req.headers.authorization, TOKEN)) { res.writeHead(401).end('{"error":"unauthorized"}'); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: 'sleep', version: '1', state: 'warm', readyInstances: 2, instances: { ready: 2, starting: 1, draining: 0 }, updatedAt: 1 }));
  });
});
after(async () => {
  gateway.close();
  rest.close();
  await rm(dir, { recursive: true, force: true });
});

test('instancesOf: instances, or readyInstances when absent, or unknown', () => {
  const base = { name: 'f', version: '1', state: 'warm', readyInstances: 3, updatedAt: 0 };
  assert.deepEqual(instancesOf({ ...base, instances: { ready: 1, starting: 2, draining: 3 } }), { ready: 1, starting: 2, draining: 3 });
  assert.deepEqual(instancesOf(base), { ready: 3, starting: 0, draining: 0 });
  assert.equal(instancesOf({ ...base, readyInstances: -1 }), undefined);
  assert.equal(instancesOf('nope'), undefined);
});

test('findToken: env first, then .stack/internal-token, else a reason', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'faas-load-root-'));
  try {
    assert.deepEqual(findToken({ FAAS_INTERNAL_TOKEN: TOKEN }, root), { token: TOKEN });
    assert.match(findToken({}, root).reason ?? '', /cannot read/);
    await mkdir(path.join(root, '.stack'));
    await writeFile(path.join(root, '.stack/internal-token'), `${'b'.repeat(32)}\n`);
    assert.deepEqual(findToken({}, root), { token: 'b'.repeat(32) });
    assert.match(findToken({ FAAS_INTERNAL_TOKEN: 'short' }, root).reason ?? '', /must be/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a ramp through a local server: CSV per second, errors by status, instances, chart', async () => {
  const gw = await listen(gateway);
  const rr = await listen(rest);
  assert.equal(await readInstances(new URL(`http://127.0.0.1:${rr}`), 'sleep', 'x'.repeat(40)), undefined); // wrong token: unknown
  const o = parseOptions(['sleep', '--ramp', '0:30:1s,30:0:1s', '--query', 'ms=5', '--gateway', `http://127.0.0.1:${gw}`, '--redis-rest', `http://127.0.0.1:${rr}`]);
  const lines: string[] = [];
  const result = await runLoad(o, { onSecond: (r) => lines.push(String(r.second)), instances: () => readInstances(o.redisRest, 'sleep', TOKEN) });
  assert.equal(result.sent, 30);
  assert.equal(seen, 30);
  assert.deepEqual([...paths], ['/sleep?ms=5']);
  assert.ok(lines.length >= 2, `progress lines: ${lines.join(',')}`);
  const files = await writeReport(dir, result.rows, 'sleep: test ramp');

  const csv = (await readFile(files.csv, 'utf8')).trim().split('\n').map((l) => l.split(','));
  assert.deepEqual(csv[0], [...CSV_COLUMNS]);
  const rows = csv.slice(1).map((f) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, f[i] ?? ''])));
  const sum = (c: string) => rows.reduce((a, r) => a + Number(r[c]), 0);
  assert.equal(sum('offered_rps'), 30);
  assert.deepEqual(rows.slice(0, 2).map((r) => r.offered_rps), ['15', '15']);
  assert.equal(sum('sent'), 30);
  assert.equal(sum('achieved_rps'), 30);
  assert.equal(sum('ok'), 24);
  assert.equal(sum('errors'), 6);
  assert.equal(rows.map((r) => r.errors_by_status).filter((e) => e !== '').every((e) => /^503:\d+$/.test(e)), true);
  assert.ok(rows.every((r) => r.p50_ms === '' || Number(r.p99_ms) >= Number(r.p50_ms)));
  // Instances were polled from the redis-rest stand-in with the token.
  assert.ok(rows.some((r) => r.instances_ready === '2' && r.instances_starting === '1' && r.instances_draining === '0'), JSON.stringify(rows));

  const svg = await readFile(files.svg, 'utf8');
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /requests\/s/);
  assert.match(svg, /latency ms/);
  assert.match(svg, />instances</);
  assert.ok(svg.includes('<path'), 'lines drawn');
  const spec = JSON.parse(await readFile(files.spec, 'utf8')) as { vconcat: unknown[] };
  assert.equal(spec.vconcat.length, 3);
  if (files.png !== undefined) {
    const png = await readFile(files.png);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  } else {
    assert.ok(files.pngSkipped, 'a reason when there is no PNG');
  }
});

test('closed loop stops at --max-requests; offered is what was sent; no token means instances unknown', async () => {
  const gw = (gateway.address() as AddressInfo).port;
  const before = seen;
  const o = parseOptions(['sleep', '--concurrency', '3', '--duration', '60s', '--max-requests', '10', '--gateway', `http://127.0.0.1:${gw}`]);
  const result = await runLoad(o);
  assert.equal(result.sent, 10);
  assert.equal(seen - before, 10);
  assert.equal(result.rows.reduce((a, r) => a + r.offered, 0), 10);
  assert.ok(result.rows.every((r) => r.instances === undefined));
  const files = await writeReport(path.join(dir, 'closed'), result.rows, 'closed');
  assert.match(await readFile(files.svg, 'utf8'), /instances unknown/);
});

test('a ramp ending with a quiet segment is recorded to the end of the plan (instances going to zero)', async () => {
  const gw = (gateway.address() as AddressInfo).port;
  const o = parseOptions(['sleep', '--ramp', '20:20:500ms,0:0:1500ms', '--gateway', `http://127.0.0.1:${gw}`]);
  const result = await runLoad(o);
  assert.ok(result.sent > 0);
  assert.ok(result.rows.length >= 2, `a row for each second of the 2 s plan (got ${result.rows.length})`);
  assert.equal(result.rows[1]?.sent, 0, 'the quiet second sends nothing');
});
