/**
 * Docker's event stream ends when dockerd restarts: the driver subscribes again (with backoff)
 * and tells the caller, which then looks for exits it missed. Docker is faked here only to end
 * the stream at will; the real engine is covered by the native-stack tests.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { createLogger } from '@faas/contracts';
import { DockerDriver, type ExitInfo, type OwnedContainer } from '../src/docker-driver';
import { type ExitEvent, ExitEvents } from '../src/exit-events';
import { missedExits } from '../src/missed-exits';

const quiet = createLogger('test', {}, () => undefined);

function fakeDocker(failFirstResubscribe = false) {
  const streams: PassThrough[] = [];
  let calls = 0;
  const docker = {
    async getEvents() {
      calls += 1;
      if (failFirstResubscribe && calls === 2) throw new Error('connect ENOENT /var/run/docker.sock');
      const s = new PassThrough();
      streams.push(s);
      return s;
    },
  };
  return { docker: docker as unknown as Docker, streams, calls: () => calls };
}

/** Let stream events and promise callbacks run (setImmediate is not mocked). */
const flush = async (rounds = 5) => {
  for (let i = 0; i < rounds; i += 1) await new Promise((r) => setImmediate(r));
};

describe('DockerDriver.watchExits', () => {
  it('reports die events, re-subscribes after the stream ends, and calls onResubscribed', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const f = fakeDocker();
    const driver = new DockerDriver(f.docker, 's1', 'loopback', 'net', quiet);
    const exits: string[] = [];
    let resubscribed = 0;
    const stop = await driver.watchExits((id) => exits.push(id), () => { resubscribed += 1; });
    try {
      f.streams[0]!.write(`${JSON.stringify({ id: 'aaa' })}\n{"Actor":{"ID":"bb`);
      f.streams[0]!.write('b"}}\n');
      await flush();
      assert.deepEqual(exits, ['aaa', 'bbb']);

      f.streams[0]!.end(); // dockerd went away
      await flush();
      t.mock.timers.tick(250);
      await flush();
      assert.equal(resubscribed, 1);
      assert.equal(f.calls(), 2);
      f.streams[1]!.write(`${JSON.stringify({ id: 'ccc' })}\n`);
      await flush();
      assert.equal(exits.length, 3);

      f.streams[1]!.destroy(new Error('socket hang up')); // an error is lost too
      await flush();
      t.mock.timers.tick(500);
      await flush();
      assert.equal(resubscribed, 2);
    } finally {
      stop();
    }
    const calls = f.calls();
    f.streams.at(-1)!.end();
    await flush();
    t.mock.timers.tick(60_000);
    await flush();
    assert.equal(f.calls(), calls, 'no subscription after stop');
  });

  it('keeps trying while dockerd refuses, backing off', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const f = fakeDocker(true);
    const driver = new DockerDriver(f.docker, 's1', 'loopback', 'net', quiet);
    let resubscribed = 0;
    const stop = await driver.watchExits(() => undefined, () => { resubscribed += 1; });
    try {
      f.streams[0]!.end();
      await flush();
      t.mock.timers.tick(249);
      await flush();
      assert.equal(f.calls(), 1, 'first retry waits 250 ms');
      t.mock.timers.tick(1);
      await flush();
      assert.equal(f.calls(), 2, 'refused attempt');
      t.mock.timers.tick(499);
      await flush();
      assert.equal(f.calls(), 2, 'second retry waits 500 ms');
      t.mock.timers.tick(1);
      await flush();
      assert.equal(f.calls(), 3, 'then success');
      assert.equal(resubscribed, 1);
    } finally {
      stop();
    }
  });
});

describe('ExitEvents: the cause of an exit from the event stream', () => {
  it('an oom before die makes that exit an OOM kill; other lines as a table', () => {
    const ev = new ExitEvents();
    const die = (id: string, exitCode?: string) => JSON.stringify({ Action: 'die', id, Actor: { ID: id, Attributes: exitCode === undefined ? {} : { exitCode } } });
    const cases: [string, ExitEvent][] = [
      [JSON.stringify({ Action: 'oom', id: 'a' }), { kind: 'oom', containerId: 'a' }],
      [die('a', '137'), { kind: 'exit', containerId: 'a', exit: { exitCode: 137, oomKilled: true } }],
      [die('a', '137'), { kind: 'exit', containerId: 'a', exit: { exitCode: 137, oomKilled: false } }], // remembered once
      [die('b', '0'), { kind: 'exit', containerId: 'b', exit: { exitCode: 0, oomKilled: false } }],
      [die('c'), { kind: 'exit', containerId: 'c', exit: undefined }],
      [JSON.stringify({ id: 'd' }), { kind: 'exit', containerId: 'd', exit: undefined }],
      [die('e', 'abc'), { kind: 'exit', containerId: 'e', exit: undefined }], // it died; the cause is unknown
      ['{"Action":"die"}', { kind: 'invalid', reason: 'no container id' }],
      ['not json', { kind: 'invalid', reason: 'not JSON' }],
      ['null', { kind: 'invalid', reason: 'malformed event: (root): Expected object, received null' }],
      ['[1]', { kind: 'invalid', reason: 'malformed event: (root): Expected object, received array' }],
      ['{"id":5}', { kind: 'invalid', reason: 'malformed event: id: Expected string, received number' }],
      ['{"id":"f","Actor":"x"}', { kind: 'invalid', reason: 'malformed event: Actor: Expected object, received string' }],
      [JSON.stringify({ Action: 'start', id: 'g' }), { kind: 'invalid', reason: "malformed event: Action: Invalid enum value. Expected 'die' | 'oom', received 'start'" }],
    ];
    for (const [line, want] of cases) assert.deepEqual(ev.read(line), want, line);
  });

  it('watchExits passes the exit from the events, oom included', async () => {
    const f = fakeDocker();
    const driver = new DockerDriver(f.docker, 's1', 'loopback', 'net', quiet);
    const exits: [string, ExitInfo | undefined][] = [];
    const stop = await driver.watchExits((id, exit) => exits.push([id, exit]));
    try {
      f.streams[0]!.write(`${JSON.stringify({ Action: 'oom', id: 'x' })}\n${JSON.stringify({ Action: 'die', id: 'x', Actor: { ID: 'x', Attributes: { exitCode: '137' } } })}\n`);
      await flush();
      assert.deepEqual(exits, [['x', { exitCode: 137, oomKilled: true }]]);
    } finally {
      stop();
    }
  });
});

describe('watchExits: malformed input', () => {
  it('logs a malformed line or a throwing handler and keeps reporting exits', async () => {
    const f = fakeDocker();
    const lines: string[] = [];
    const driver = new DockerDriver(f.docker, 's1', 'loopback', 'net', createLogger('test', {}, (l) => { lines.push(l); }));
    const exits: string[] = [];
    const stop = await driver.watchExits((id) => {
      if (id === 'boom') throw new Error('handler bug');
      exits.push(id);
    });
    try {
      f.streams[0]!.write(`null\n{"id":5}\nnot json\n${JSON.stringify({ id: 'boom' })}\n${JSON.stringify({ id: 'ok' })}\n`);
      await flush();
      assert.deepEqual(exits, ['ok']);
      const events = lines.map((l) => (JSON.parse(l) as { event: string }).event);
      assert.deepEqual(events, ['docker_event_invalid', 'docker_event_invalid', 'docker_event_invalid', 'docker_exit_handler_failed']);
      f.streams[0]!.write('x'.repeat(1024 * 1024 + 1));
      f.streams[0]!.write(`\n${JSON.stringify({ id: 'after' })}\n`);
      await flush();
      assert.deepEqual(exits, ['ok', 'after'], 'an oversized line is dropped, the stream goes on');
      assert.equal(lines.length, 5);
    } finally {
      stop();
    }
  });
});

describe('missedExits', () => {
  const owned = (containerId: string, running: boolean, paused = false, created = false): OwnedContainer => ({
    containerId, fn: 'hello', version: '1', instanceId: 'i', image: 'img', configHash: 'h', running, paused, created,
  });
  it('names known containers that are gone or stopped, nothing else', () => {
    assert.deepEqual(missedExits(['a', 'b', 'c'], [owned('a', true), owned('b', false), owned('z', false)]), ['b', 'c']);
    assert.deepEqual(missedExits([], [owned('a', false)]), []);
    assert.deepEqual(missedExits(['a'], [owned('a', true)]), []);
  });
  it('a paused container (warm tier) is alive', () => {
    assert.deepEqual(missedExits(['p', 'c'], [owned('p', false, true), owned('c', false, false, true)]), []);
  });
});
