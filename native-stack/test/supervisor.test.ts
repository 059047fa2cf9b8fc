/** The supervisor restarts a process that exits on its own, and not one stopped on request. */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { describe, it } from 'node:test';
import { type ExitStatus, type Running, supervise } from '../src/supervisor';

/** A fake process: exits when told. */
function fakeProcess(pid: number): Running & { exit(status: ExitStatus): void } {
  let resolve!: (s: ExitStatus) => void;
  const exited = new Promise<ExitStatus>((r) => { resolve = r; });
  return {
    pid, exited,
    exit: (s) => resolve(s),
    kill: (signal) => resolve({ code: null, signal }),
    stop: async () => { resolve({ code: 0, signal: null }); await exited; },
  };
}

const fast = { initialMs: 1, maxMs: 4, resetAfterMs: 10_000, loopWindowMs: 60_000, loopCrashes: 3 };

describe('supervise', () => {
  it('restarts a crashed process, reports a crash loop, and stops for good on request', async () => {
    const events = new EventEmitter();
    const procs: ReturnType<typeof fakeProcess>[] = [];
    const logs: Record<string, unknown>[] = [];
    const s = await supervise({
      component: 'x', policy: fast,
      start: async () => { const p = fakeProcess(procs.length + 1); procs.push(p); return p; },
      log: (e) => { logs.push(e); events.emit(String(e.event), e); },
    });
    assert.equal(s.pid(), 1);
    for (let i = 0; i < 3; i++) {
      const restarted = once(events, 'component_restarted');
      procs.at(-1)!.exit({ code: 1, signal: null });
      await restarted;
    }
    assert.equal(s.pid(), 4);
    assert.deepEqual(logs.filter((l) => l.event === 'component_restarted').map((l) => [l.attempt, l.code]), [[1, 1], [2, 1], [3, 1]]);
    const loop = logs.find((l) => l.event === 'component_crash_loop');
    assert.equal(loop?.level, 'error');
    await s.stop();
    assert.equal(s.pid(), undefined);
    assert.equal(procs.length, 4, 'no restart after stop');
  });

  it('restart() replaces the process without counting a crash', async () => {
    const logs: Record<string, unknown>[] = [];
    let n = 0;
    const s = await supervise({ component: 'y', policy: fast, start: async () => fakeProcess(++n), log: (e) => logs.push(e) });
    await s.restart('crash');
    await s.restart('graceful');
    assert.equal(s.pid(), 3);
    assert.equal(logs.length, 0);
    await s.stop();
  });

  it('a failing first start is the caller\'s error', async () => {
    await assert.rejects(supervise({ component: 'z', start: () => Promise.reject(new Error('boom')), log: () => undefined }), /boom/);
  });

  it('a failed restart is retried', async () => {
    const events = new EventEmitter();
    let n = 0;
    let first: ReturnType<typeof fakeProcess> | undefined;
    const s = await supervise({
      component: 'w', policy: fast,
      start: async () => {
        n++;
        if (n === 2) throw new Error('port busy');
        const p = fakeProcess(n);
        first ??= p;
        return p;
      },
      log: (e) => events.emit(String(e.event), e),
    });
    const restarted = once(events, 'component_restarted');
    first!.exit({ code: null, signal: 'SIGKILL' });
    const [e] = (await restarted) as [Record<string, unknown>];
    assert.equal(e.pid, 3);
    await s.stop();
  });
});
