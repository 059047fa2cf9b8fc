import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../src/errors';
import { WAKE_TIMEOUT_RULE, parseIntParam } from '../src/params';
import { parseStateChange, parseStateRecord } from '../src/parse';
import { RevHub } from '../src/rev-hub';

test('parseIntParam: default, valid, and errors naming the parameter', () => {
  assert.equal(parseIntParam(undefined, WAKE_TIMEOUT_RULE), 30_000);
  assert.equal(parseIntParam('500', WAKE_TIMEOUT_RULE), 500);
  for (const bad of ['0', '120001', 'abc', '-1', '1.5', '', ['1', '2']]) {
    assert.throws(() => parseIntParam(bad, WAKE_TIMEOUT_RULE), (e: unknown) => e instanceof ApiError && e.status === 400 && e.message.includes('timeout_ms'));
  }
});

test('parseStateRecord and parseStateChange reject malformed input', () => {
  assert.equal(parseStateRecord('nope'), undefined);
  assert.equal(parseStateRecord('{"name":"a","state":"hot"}'), undefined);
  assert.equal(parseStateRecord('{"name":"a","state":"warm"}'), undefined, 'a record missing contract fields is malformed');
  const full = { name: 'a', version: '1', state: 'warm', readyInstances: 1, updatedAt: 5, instances: { starting: 0, ready: 1, draining: 0 } };
  assert.deepEqual(parseStateRecord(JSON.stringify(full)), full);
  assert.deepEqual(parseStateChange('{"fn":"a","state":"warm","rev":3}'), { fn: 'a', state: 'warm', rev: 3 });
  assert.equal(parseStateChange('{"fn":"A","state":"warm","rev":3}'), undefined);
  assert.equal(parseStateChange('{"fn":"a","state":"warm","rev":"3"}'), undefined);
  assert.equal(parseStateChange('[]'), undefined);
});

test('RevHub releases waiters on any other rev, including a reset to a lower one', () => {
  const hub = new RevHub();
  const released: number[] = [];
  hub.register({ after: 5, release: () => released.push(5) });
  hub.register({ after: 7, release: () => released.push(7) });
  hub.onRev(7);
  assert.deepEqual(released, [5]);
  hub.onRev(1);
  assert.deepEqual(released, [5, 7]);
  assert.equal(hub.size, 0);
});
