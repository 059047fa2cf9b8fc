/** functions/sleep, the load target: called as the runtime calls it, with mock timers (no real waits). */
import { mock, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';

interface Result { statusCode: number; headers: Record<string, string>; body: string }
type SleepHandler = (event: { query: Record<string, string>; requestId: string }) => Promise<Result>;
const { handler } = require(path.join(__dirname, '../../../functions/sleep/index.js')) as { handler: SleepHandler };

const call = (query: Record<string, string>) => handler({ query, requestId: 'r1' });

test('sleep answers JSON after ms milliseconds', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let done = false;
    const p = call({ ms: '200' }).then((r) => { done = true; return r; });
    await Promise.resolve();
    mock.timers.tick(199);
    await Promise.resolve();
    assert.equal(done, false);
    mock.timers.tick(1);
    const r = await p;
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.body), { slept: 200, startedAt: 0, requestId: 'r1' });
  } finally {
    mock.timers.reset();
  }
});

test('sleep: 0, absent and the bounds', async () => {
  for (const [query, status, slept] of [[{}, 200, 0], [{ ms: '0' }, 200, 0]] as const) {
    const r = await call(query);
    assert.equal(r.statusCode, status);
    assert.equal(JSON.parse(r.body).slept, slept);
  }
  for (const ms of ['-1', '10001', '99999', '1.5', 'abc', '', '1e3', ' 5', '123456']) {
    const r = await call({ ms });
    assert.equal(r.statusCode, 400, ms);
    assert.equal(JSON.parse(r.body).error, 'invalid_ms', ms);
  }
});
