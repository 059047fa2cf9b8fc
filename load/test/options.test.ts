import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseOptions, targetUrl } from '../src/options';
import { LoadOptionError } from '../src/plan';

test('options: rate, ramp and closed loop', () => {
  const a = parseOptions(['sleep', '--rate', '20', '--duration', '10s', '--query', 'ms=200']);
  assert.equal(a.fn, 'sleep');
  assert.deepEqual(a.segments, [{ fromRps: 20, toRps: 20, durationMs: 10_000 }]);
  assert.equal(a.durationMs, 10_000);
  assert.equal(a.concurrency, 256);
  assert.equal(targetUrl(a), 'http://127.0.0.1:8080/sleep?ms=200');
  const b = parseOptions(['sleep', '--ramp', '0:50:30s,50:0:30s', '--gateway', 'http://localhost:9999', '--path', '/x/y', '--query', '?a=1&b=2', '--max-requests', '50']);
  assert.equal(b.durationMs, 60_000);
  assert.equal(b.maxRequests, 50);
  assert.equal(targetUrl(b), 'http://localhost:9999/sleep/x/y?a=1&b=2');
  const c = parseOptions(['hello', '--concurrency', '8', '--duration', '5s', '--gateway', 'http://127.1.2.3:80', '--out', '/tmp/x']);
  assert.equal(c.segments, undefined);
  assert.equal(c.concurrency, 8);
  assert.equal(c.out, '/tmp/x');
  assert.equal(parseOptions(['hello', '--concurrency', '1', '--gateway', 'http://[::1]:8080']).gateway.hostname, '[::1]');
});

test('options: bad input is one clear error', () => {
  const cases: [string[], RegExp][] = [
    [[], /name the function/],
    [['a', 'b', '--rate', '1'], /one function name/],
    [['Bad_Name!', '--rate', '1'], /not a valid function name/],
    [['sleep'], /give --rate/],
    [['sleep', '--rate', '1', '--ramp', '1:1:1s'], /not both/],
    [['sleep', '--ramp', '1:1:1s', '--duration', '5s'], /drop --duration/],
    [['sleep', '--rate', '1', '--gateway', 'http://10.1.2.3:8080'], /not a loopback/],
    [['sleep', '--rate', '1', '--gateway', 'http://example.com'], /not a loopback/],
    [['sleep', '--rate', '1', '--gateway', 'http://127.0.0.1.example.com'], /not a loopback/],
    [['sleep', '--rate', '1', '--gateway', 'http://192.168.1.1'], /not a loopback/],
    [['sleep', '--rate', '1', '--redis-rest', 'http://172.17.0.1:7071'], /not a loopback/],
    [['sleep', '--rate', '1', '--gateway', 'ftp://127.0.0.1'], /http/],
    [['sleep', '--rate', '1', '--gateway', 'http://127.0.0.1:8080/x'], /scheme:\/\/host:port only/],
    [['sleep', '--rate', '1', '--gateway', 'nope'], /not a URL/],
    [['sleep', '--concurrency', '0'], /from 1 to/],
    [['sleep', '--concurrency', '5000'], /from 1 to/],
    [['sleep', '--rate', '1', '--max-requests', '-3'], /ambiguous/],
    [['sleep', '--rate', '1', '--max-requests=-3'], /whole number/],
    [['sleep', '--rate', '1', '--path', 'noslash'], /must start with/],
    [['sleep', '--rate', '1', '--query', 'a b'], /not allowed/],
    [['sleep', '--rate', '1', '--timeout', 'soon'], /not a duration/],
    [['sleep', '--rate', '1', '--unknown'], /Unknown option/],
    [['sleep', '--rate'], /argument missing|requires|value/i],
  ];
  for (const [argv, re] of cases) {
    assert.throws(() => parseOptions(argv), (e: Error) => e instanceof LoadOptionError && re.test(e.message) && !e.message.includes('\n'), argv.join(' '));
  }
});
