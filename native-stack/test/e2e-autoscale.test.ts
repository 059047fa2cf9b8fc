/**
 * Autoscaling end to end (issue 8): a burst against `sleep` scales out, a ramp up and down loses
 * no request, the function returns to one instance and then to zero once idle, a load
 * killed mid-ramp leaves containers and the orchestrator's record in agreement, and requests
 * queued in the router take the event-driven path (demand alert) to a scale-out. Real processes
 * and dockerd; short windows so the file stays quick. Waits are bounded waits on the event.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { containers, writeDefinitions } from './helpers';
import { useTestStack } from './test-stack';
import { instanceTotal, startRamp, stateRecord, upAndDown, waitUntil } from './ramp-load';

const FN = 'sleep';

describe('autoscaling: burst, ramps, back to zero, load killed mid-ramp', { timeout: 240_000 }, () => {
  let redis: Redis;
  const suite = useTestStack('scale', {
    wakeTimeoutMs: 30_000,
    definitions: (dir) => writeDefinitions(dir, {
      // Idle time above the stable window: the function first settles at one instance.
      [FN]: { version: '1', concurrency: 2, max_instances: 4, stable_window: '6s', panic_window: '1s', idle_timeout: '10s', timeout: '15s', warm: 'none' },
    }),
    beforeStop: async () => redis?.disconnect(),
  });
  const { id, logs } = suite;
  let url: string;

  before(() => {
    redis = new Redis(suite.stack.redisUrl);
    url = `${suite.base}/${FN}?ms=300`;
  });

  const record = () => stateRecord(redis, id, FN);
  const running = async () => (await containers(id, FN)).filter((c) => c.State === 'running').length;

  /** Waits for zero: record cold, no container of the function. */
  async function waitForZero(timeoutMs: number): Promise<void> {
    let last = '';
    await waitUntil(async () => {
      const r = await record();
      const n = (await containers(id, FN)).length;
      last = `state ${r?.state} instances ${JSON.stringify(r?.instances)} containers ${n}`;
      return r?.state === 'cold' && instanceTotal(r) === 0 && n === 0;
    }, timeoutMs, () => `back to zero (last: ${last})`);
  }

  it('a burst against sleep?ms=300 scales out to more than one instance', async () => {
    const burst = startRamp(url, [12], 60_000);
    let most = 0;
    try {
      await waitUntil(async () => {
        most = Math.max(most, (await record())?.instances?.ready ?? 0);
        return most > 1;
      }, 30_000, () => `more than one ready instance (most seen ${most})`);
      assert.ok((await running()) > 1, 'more than one container runs');
    } finally {
      // Let requests finish: a cut request keeps its runtime slot busy after the router freed it (see the report).
      await burst.stop();
    }
    assert.ok(logs.count((l) => l.includes('"event":"scale_decision"')) > 0, 'decisions are logged');
  });

  it('during a ramp up and a ramp down every request answers 200', async () => {
    const ramp = startRamp(url, upAndDown(8), 900);
    await ramp.done;
    const bad = ramp.samples.filter((s) => s.status !== 200);
    assert.ok(ramp.samples.length > 50, `enough requests (${ramp.samples.length})`);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${ramp.samples.length} requests failed`);
  });

  it('once load stops it returns to one instance, then to zero after the idle time', async () => {
    let last = '';
    // One condition: a container whose instance already left the set may still be stopping
    // (SIGTERM grace) when another removal publishes the counts.
    await waitUntil(async () => {
      const r = await record();
      const n = await running();
      last = `${JSON.stringify(r?.instances)}, ${n} running`;
      return instanceTotal(r) === 1 && r?.instances?.ready === 1 && n === 1;
    }, 30_000, () => `one ready instance and one container (last ${last})`);
    await waitForZero(30_000);
    assert.ok(logs.count((l) => l.includes('"event":"scale_down_done"')) > 0, 'scale-downs went through the drain');
  });

  it('a load killed mid-ramp leaves containers and reported instances in agreement, then zero', async () => {
    const ramp = startRamp(url, upAndDown(8), 700);
    await waitUntil(async () => instanceTotal(await record()) > 1, 30_000, () => 'scale-out under the second ramp');
    await ramp.kill();
    // A settled moment: the record does not change while the containers are counted.
    let last = '';
    await waitUntil(async () => {
      const before = await record();
      const n = await running();
      const after = await record();
      last = `record ${JSON.stringify(after?.instances)} running ${n}`;
      return JSON.stringify(before) === JSON.stringify(after) && (after?.instances?.starting ?? 0) === 0 && (after?.instances?.draining ?? 0) === 0 && n === instanceTotal(after);
    }, 30_000, () => `containers = reported instances (${last})`);
    await waitForZero(40_000);
  });

  it('requests queued in the router reach the orchestrator as a demand alert and scale out from one instance', async () => {
    assert.equal((await fetch(url)).status, 200, 'warm-up');
    await waitUntil(async () => { const r = await record(); return instanceTotal(r) === 1 && r?.instances?.ready === 1; }, 30_000, () => 'one ready instance');
    const mark = logs.lines.length;
    const since = () => logs.lines.slice(mark);
    const burst = startRamp(url, [8], 60_000);
    try {
      // The listener publishes when the router reports its queue; the orchestrator ticks at once.
      await waitUntil(async () => since().some((l) => l.includes('"event":"demand_alert"') && l.includes(`"fn":"${FN}"`)), 30_000, () => 'a demand_alert in the orchestrator log');
      await waitUntil(async () => ((await record())?.instances?.ready ?? 0) > 1, 30_000, () => 'a second ready instance');
    } finally {
      await burst.stop();
    }
    const bad = burst.samples.filter((x) => x.status !== 200);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${burst.samples.length} requests failed`);
  });
});
