import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseDatagram, parseLine } from '../src/parse';

test('parses Envoy example lines (reference section 3.2)', () => {
  const text = [
    'envoy.cluster.fn-hello.upstream_rq_total:42|c',
    'envoy.cluster.fn-hello.upstream_rq_active:7|g',
    'envoy.cluster.fn-hello.upstream_rq_pending_active:3|g',
    'envoy.cluster.fn-hello.upstream_rq_time:12|ms',
    'envoy.http.ingress_http.downstream_rq_active:9|g',
    'envoy.control_plane.connected_state:1|g',
  ].join('\n');
  const r = parseDatagram(text);
  assert.equal(r.lines, 6);
  assert.equal(r.malformed.length, 0);
  assert.deepEqual(r.metrics[0], { name: 'envoy.cluster.fn-hello.upstream_rq_total', value: 42, type: 'c', gaugeDelta: false, sampleRate: 1, tags: [] });
  assert.equal(r.metrics[1]?.type, 'g');
  assert.equal(r.metrics[1]?.value, 7);
  assert.equal(r.metrics[3]?.type, 'ms');
  assert.equal(r.metrics[3]?.value, 12);
});

test('one line per datagram, trailing newline and CRLF are fine', () => {
  assert.equal(parseDatagram('envoy.a:1|c').metrics.length, 1);
  const r = parseDatagram('envoy.a:1|c\r\nenvoy.b:2|g\n\n');
  assert.equal(r.lines, 2);
  assert.deepEqual(r.metrics.map((m) => m.name), ['envoy.a', 'envoy.b']);
});

test('splits name and value at the last ":" before the first "|"', () => {
  const m = parseLine('envoy.listener.0.0.0.0:10000.downstream_cx_active:5|g');
  assert.ok(typeof m !== 'string');
  assert.equal(m.name, 'envoy.listener.0.0.0.0:10000.downstream_cx_active');
  assert.equal(m.value, 5);
  const t = parseLine('envoy.test_counter:1|c|#key1:value1,key2:value2');
  assert.ok(typeof t !== 'string');
  assert.equal(t.name, 'envoy.test_counter');
  assert.deepEqual(t.tags, ['key1:value1', 'key2:value2']);
});

test('sample rate scales counters; signed gauges are deltas; h and floats', () => {
  const c = parseLine('x:3|c|@0.5');
  assert.ok(typeof c !== 'string');
  assert.equal(c.value, 6);
  assert.equal(c.sampleRate, 0.5);
  const g = parseLine('x:-2|g');
  assert.ok(typeof g !== 'string');
  assert.equal(g.gaugeDelta, true);
  assert.equal(g.value, -2);
  const g2 = parseLine('x:+2.5|g');
  assert.ok(typeof g2 !== 'string' && g2.gaugeDelta && g2.value === 2.5);
  const h = parseLine('envoy.x.pct:99.5|h');
  assert.ok(typeof h !== 'string' && h.type === 'h' && h.value === 99.5);
  const plain = parseLine('x:2|g');
  assert.ok(typeof plain !== 'string' && !plain.gaugeDelta);
});

test('malformed lines are skipped with a reason, good lines in the same datagram kept', () => {
  const r = parseDatagram([
    'good:1|c', 'novalue|c', 'noType:1', ':1|c', 'x:abc|c', 'x:1|zz', 'x:1|c|@2', 'x:1|c|weird', 'x:NaN|g', 'good2:2|g',
  ].join('\n'));
  assert.equal(r.lines, 10);
  assert.deepEqual(r.metrics.map((m) => m.name), ['good', 'good2']);
  assert.equal(r.malformed.length, 8);
  const reasons = r.malformed.map((m) => m.reason);
  assert.match(reasons[0] ?? '', /missing ":"/);
  assert.match(reasons[1] ?? '', /missing "\|<type>"/);
  assert.match(reasons[2] ?? '', /empty metric name/);
  assert.match(reasons[3] ?? '', /not a number/);
  assert.match(reasons[4] ?? '', /unknown type "zz"/);
  assert.match(reasons[5] ?? '', /sample rate/);
  assert.match(reasons[6] ?? '', /unknown field/);
  assert.match(reasons[7] ?? '', /not a number/);
});

test('table: garbage, partial lines, huge values, NaN, negative counters, unknown types, rates', () => {
  const cases: [string, string | Partial<{ value: number; type: string; gaugeDelta: boolean; sampleRate: number }>][] = [
    ['envoy.cluster.fn-a.upstream_rq_total:7|c|@0.1', { value: 70, type: 'c', sampleRate: 0.1 }],
    ['envoy.cluster.fn-a.upstream_rq_time:12.5|ms|@0.5', { value: 12.5, type: 'ms', sampleRate: 0.5 }],
    ['envoy.cluster.fn-a.upstream_rq_active:-0|g', { value: -0, gaugeDelta: true }],
    ['envoy.cluster.fn-a.upstream_rq_active:1e3|g', { value: 1000, gaugeDelta: false }],
    ['envoy.cluster.fn-a.upstream_rq_total:9007199254740991|c', { value: Number.MAX_SAFE_INTEGER }],
    ['envoy.cluster.fn-a.upstream_rq_total:9007199254740993|c', 'out of range'],
    ['envoy.cluster.fn-a.upstream_rq_total:1e400|c', 'not finite'],
    ['envoy.cluster.fn-a.upstream_rq_active:NaN|g', 'not a number'],
    ['envoy.cluster.fn-a.upstream_rq_active:Infinity|g', 'not a number'],
    ['envoy.cluster.fn-a.upstream_rq_total:-3|c', 'negative counter'],
    ['envoy.cluster.fn-a.upstream_rq_time:-1|ms', 'negative timer'],
    ['envoy.cluster.fn-a.upstream_rq_active:3|s', 'unknown type "s"'],
    ['envoy.cluster.fn-a.upstream_rq_active:3|', 'unknown type ""'],
    ['envoy.cluster.fn-a.upstream_rq_total:3|c|@0', 'sample rate'],
    ['envoy.cluster.fn-a.upstream_rq_total:3|c|@-1', 'sample rate'],
    ['envoy.cluster.fn-a.upstream_rq_total:3|c|@abc', 'sample rate'],
    ['envoy.cluster.fn-a.upstream_rq_tot', 'missing "|<type>"'],
    ['envoy.cluster.fn-a.upstream_rq_total:', 'missing "|<type>"'],
    ['envoy.cluster.fn-a.upstream_rq_total:|c', 'not a number'],
    ['\u0000\u00ff\ufffd|||', 'missing ":"'],
    ['::::|c', 'not a number'],
  ];
  for (const [line, want] of cases) {
    const r = parseLine(line);
    if (typeof want === 'string') {
      assert.equal(typeof r, 'string', line);
      assert.match(r as string, new RegExp(want.replace(/[|"()]/g, '\\$&')), line);
    } else {
      assert.notEqual(typeof r, 'string', `${line}: ${String(r)}`);
      for (const [k, v] of Object.entries(want)) assert.equal((r as unknown as Record<string, unknown>)[k], v, `${line} ${k}`);
    }
  }
});

test('a datagram cut mid-line keeps the complete lines before it', () => {
  const r = parseDatagram('envoy.cluster.fn-a.upstream_rq_active:3|g\nenvoy.cluster.fn-a.upstream_rq_to');
  assert.equal(r.metrics.length, 1);
  assert.equal(r.malformed.length, 1);
  const long = parseDatagram(`${'x'.repeat(100_000)}:1|q`);
  assert.equal(long.malformed[0]?.line.length, 203); // logged lines are cut to 200 chars
});
