/**
 * No request lost across pause and unpause under load (issue 11), real processes and dockerd:
 * a steady trickle keeps one instance of `saw` serving while bursts scale it out; after each
 * burst the extra instance is drained, withdrawn and paused, and the next burst unpauses it
 * while the first keeps serving (its endpoint is pushed while it thaws). Every request of the
 * trickle and of the bursts must answer 200. Waits are on logged events, each with a bound.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Stack, startStack } from '../src/launcher';
import { root, writeDefinitions } from './helpers';
import { LogWatch, startLoad } from './load';

const orchestratorEvent = (event: string, extra = '') => (line: string): boolean =>
  line.startsWith('orchestrator ') && line.includes(`"event":"${event}"`) && line.includes(extra);

describe('warm tier under load', { timeout: 300_000 }, () => {
  let stack: Stack;
  let dir: string;
  const watch = new LogWatch();
  const id = `saw-${randomBytes(3).toString('hex')}`;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-saw-'));
    const defs = writeDefinitions(dir, {
      // Never idle to zero here (idle_timeout): the trickle keeps one instance; the autoscaler
      // removes (pauses) the burst's extra one after the stable window.
      saw: { version: '1', code: path.join(root, 'functions/sleep'), concurrency: 2, target_concurrency: 2, max_instances: 3, stable_window: '6s', panic_window: '1s', idle_timeout: '10m', memory_mb: 64 },
    });
    stack = await startStack({ root, stack: id, wakeTimeoutMs: 30_000, definitionsFile: defs, sink: watch.sink, orchestratorEnv: { FAAS_STATS_INTERVAL_MS: '200' } });
  });

  after(async () => {
    await stack?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bursts unpause a paused instance while another serves; no request fails', async () => {
    const url = (ms: number) => `http://127.0.0.1:${stack.ports.gateway}/saw?ms=${ms}`;
    const trickle = startLoad(url(20), 1);
    const bursts: ReturnType<typeof startLoad>[] = [];
    const unpausedUnderLoad = orchestratorEvent('scale_up_instance_ready', '"tier":"paused"');
    try {
      await trickle.progress(5);
      // Bounded: at most four bursts to see a scale-out served by an unpaused instance.
      for (let burst = 1; burst <= 4 && watch.count(unpausedUnderLoad) === 0; burst += 1) {
        const ready = watch.count(orchestratorEvent('scale_up_instance_ready'));
        const paused = watch.count(orchestratorEvent('instance_paused'));
        const load = startLoad(url(300), 6);
        bursts.push(load);
        await watch.waitFor(orchestratorEvent('scale_up_instance_ready'), ready + 1, 60_000, `burst ${burst}: scale-out`);
        await load.progress(10, 60_000);
        await load.stop();
        await watch.waitFor(orchestratorEvent('instance_paused'), paused + 1, 60_000, `burst ${burst}: the extra instance paused`);
      }
      assert.ok(watch.count(unpausedUnderLoad) >= 1, 'a burst was served by an unpaused instance');
      assert.ok(watch.lines.some((l) => unpausedUnderLoad(l) && l.includes('"routedEarly":true')), 'its endpoint was pushed while it thawed');
      await trickle.progress(5);
    } finally {
      await Promise.all([trickle.stop(), ...bursts.map((b) => b.stop())]);
    }
    assert.deepEqual(trickle.failures, [], 'the trickle lost nothing');
    for (const b of bursts) assert.deepEqual(b.failures, [], 'no burst request failed');
    assert.ok(trickle.ok() > 0 && bursts.every((b) => b.ok() >= 10));
  });
});
