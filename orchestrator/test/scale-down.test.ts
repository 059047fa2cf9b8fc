/**
 * Scale-down safety: an instance whose stats cannot be read is removed only when Docker says
 * its container is gone (a CPU-bound handler can starve /_faas/stats), the drain does not stop
 * early while it runs, and a failed state write never leaves the removal flag set. The runtime
 * is a real HTTP server on loopback; Docker, xds-server and Redis are small fakes recording calls.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type FunctionDefinition, type FunctionState, createLogger , SCALING_DEFAULTS} from '@faas/contracts';
import type { InstanceDriver } from '../src/docker-driver';
import { FunctionController } from '../src/function-controller';
import type { StateStore } from '../src/state';
import type { XdsClient } from '../src/xds-client';

type Mode = 'idle' | 'hang' | 'closed';

const def: FunctionDefinition = {
  name: 'hello', runtime: 'node', version: '1', codeDir: '/x', handler: 'index.handler', concurrency: 4,
  timeoutMs: 300, scaling: { ...SCALING_DEFAULTS, idleTimeoutMs: 1000, maxInstances: 3, targetConcurrency: 2 }, memoryMb: 64, cpus: 1, env: {},
};

describe('FunctionController.scaleDown', () => {
  let server: http.Server;
  let port: number;
  let mode: Mode = 'idle';
  let statsHits = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url !== '/_faas/stats') return void res.writeHead(404).end();
      statsHits += 1;
      if (mode === 'hang') return; // busy handler: no answer before the probe's timeout
      if (mode === 'closed') return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ inflight: 0, served: 1, idleMs: 60_000, ready: true, draining: false }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  let states: FunctionState[];
  let stopped: string[];
  let running: boolean;
  let logs: string[];
  let failStateWrite: FunctionState | undefined;
  let onPut: () => void;

  beforeEach(() => {
    mode = 'idle';
    statsHits = 0;
    states = [];
    stopped = [];
    running = true;
    logs = [];
    failStateWrite = undefined;
    onPut = () => undefined;
  });

  function controller(): FunctionController {
    const driver: Pick<InstanceDriver, 'isRunning' | 'stop'> = {
      isRunning: async () => running,
      stop: async (id) => void stopped.push(id),
    };
    const state: Pick<StateStore, 'set'> = {
      set: async (_fn, _v, s) => {
        if (s === failStateWrite) throw new Error('redis down');
        states.push(s);
        return states.length;
      },
    };
    const xds: Pick<XdsClient, 'put'> = {
      put: async () => {
        onPut();
        return { fn: 'hello', versions: {}, routers: [], elapsedMs: 0 } as unknown as Awaited<ReturnType<XdsClient['put']>>;
      },
    };
    const ctl = new FunctionController(def, {
      driver: driver as InstanceDriver,
      state: state as StateStore,
      xds: xds as XdsClient,
      metrics: { coldStart: () => undefined, instances: () => undefined, close: async () => undefined },
      log: createLogger('test', {}, (l) => void logs.push(l)),
      image: async () => 'img',
      readinessTimeoutMs: 1000,
      gatewayGraceMs: 10,
    });
    ctl.adopt({ id: 'i1', containerId: 'c1', address: '127.0.0.1', port });
    return ctl;
  }

  it('removes an idle instance (baseline)', async () => {
    const ctl = controller();
    await ctl.scaleDown('i1', 'idle');
    assert.equal(ctl.instances.size, 0);
    assert.deepEqual(states, ['stopping', 'cold']);
    assert.deepEqual(stopped, ['c1']);
  });

  it('keeps a running instance whose stats time out, and skips the round', async () => {
    mode = 'hang';
    const ctl = controller();
    await ctl.scaleDown('i1', 'idle');
    assert.equal(ctl.instances.size, 1, 'instance kept');
    assert.deepEqual(states, [], 'gateways were told nothing');
    assert.deepEqual(stopped, []);
  });

  it('removes an instance whose stats fail when its container no longer runs', async () => {
    mode = 'closed';
    running = false;
    const ctl = controller();
    await ctl.scaleDown('i1', 'idle');
    assert.equal(ctl.instances.size, 0);
    assert.deepEqual(states, ['stopping', 'cold']);
    assert.deepEqual(stopped, ['c1']);
  });

  it('keeps draining a running instance whose stats stop answering, until the timeout', async () => {
    const ctl = controller();
    onPut = () => {
      mode = 'hang'; // the router was told DRAINING; the handler now hogs the CPU
    };
    await ctl.scaleDown('i1', 'idle');
    assert.ok(logs.some((l) => l.includes('"event":"drain_timeout"')), 'waited for the drain deadline, not stopped at the first failed read');
    assert.deepEqual(stopped, ['c1']);
  });

  it('a failed state write does not leave the removal flag set', async () => {
    failStateWrite = 'stopping';
    const ctl = controller();
    await assert.rejects(ctl.scaleDown('i1', 'idle'), /redis down/);
    assert.equal((ctl as unknown as { stoppingLast: boolean }).stoppingLast, false);
    assert.equal(ctl.instances.size, 1);
    assert.deepEqual(states, ['warm'], 'gateways told the instance still serves');
    await ctl.republish();
    assert.deepEqual(states, ['warm', 'warm'], 're-publication repeats the last state sent');
  });

  it('queues one removal per instance however often the tick asks', async () => {
    const ctl = controller();
    await Promise.all([ctl.scaleDown('i1', 'idle'), ctl.scaleDown('i1', 'idle'), ctl.scaleDown('i1', 'idle'), ctl.scaleDown('i1', 'idle')]);
    // The first runs at once; one more waits in the queue (and finds the instance gone); the rest are dropped.
    assert.ok(statsHits <= 2, `stats read ${statsHits} times`);
    assert.deepEqual(states, ['stopping', 'cold']);
  });
});
