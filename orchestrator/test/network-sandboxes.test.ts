/**
 * Network sandboxes against the real dockerd: a cold start joins a ready sandbox's network
 * namespace and is reached on the sandbox's published 127.0.0.1 port; stopping the instance
 * removes its sandbox; a sandbox that dies takes its instance with it (killed, a die event);
 * the start-up sweep removes unreferenced sandboxes and close() leaves none. Plus the pure
 * option builders (no daemon).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LABELS, SANDBOX_ROLE, createLogger } from '@faas/contracts';
import { PORT_KEY, SANDBOX_CMD, containerCreateOptions, endpointOf, sandboxCreateOptions } from '../src/container-spec';
import { DockerDriver } from '../src/docker-driver';
import { ensureFunctionImage } from '../src/images';
import { SandboxPool, unreferencedSandboxes } from '../src/network-sandboxes';
import { BASE, ROOT, defOf, docker, ensureBaseImages, get, removeTempFunctions, tempFunction, uid, waitReady } from './image-fixtures';

const lines: Record<string, unknown>[] = [];
const logger = createLogger('sandbox-test', {}, (l) => void lines.push(JSON.parse(l) as Record<string, unknown>));
const stack = `sbx-${uid}`;
const ctx = { stack, run: '', mode: 'loopback' as const, network: 'unused' };

/** Bounded wait for a condition the daemon makes true (never a fixed sleep). */
async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, `${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sandboxesOf = async () => (await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.role}=${SANDBOX_ROLE}`] } })).map((c) => c.Id);
const allOf = async () => (await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`] } })).map((c) => c.Id);

describe('network sandbox options (pure)', () => {
  const def = defOf('sbxfn', '/x');
  test('a joined container has no ports or network of its own and names its sandbox', () => {
    const o = containerCreateOptions({ def, image: 'img', instanceId: 'i1' }, ctx, undefined, 'sb1');
    assert.equal(o.HostConfig?.NetworkMode, 'container:sb1');
    assert.equal(o.HostConfig?.PortBindings, undefined);
    assert.equal(o.ExposedPorts, undefined);
    assert.equal(o.Labels?.[LABELS.sandbox], 'sb1');
    const own = containerCreateOptions({ def, image: 'img', instanceId: 'i1' }, ctx);
    assert.deepEqual(own.HostConfig?.PortBindings, { [PORT_KEY]: [{ HostIp: '127.0.0.1', HostPort: '' }] });
    assert.equal(own.Labels?.[LABELS.sandbox], undefined);
  });
  test('a sandbox sleeps unprivileged with the port (loopback) or the network (compose), and no function label', () => {
    const o = sandboxCreateOptions(ctx, 'base', 'n');
    assert.deepEqual(o.Cmd, SANDBOX_CMD);
    assert.equal(o.User, '65534:65534');
    assert.deepEqual(o.HostConfig?.CapDrop, ['ALL']);
    assert.equal(o.HostConfig?.ReadonlyRootfs, true);
    assert.equal(o.Labels?.[LABELS.role], SANDBOX_ROLE);
    assert.equal(o.Labels?.[LABELS.function], undefined);
    assert.deepEqual(o.HostConfig?.PortBindings, { [PORT_KEY]: [{ HostIp: '127.0.0.1', HostPort: '' }] });
    assert.equal(sandboxCreateOptions({ ...ctx, mode: 'network', network: 'fnnet' }, 'base', 'n').HostConfig?.NetworkMode, 'fnnet');
  });
  test('endpointOf reads the published port (loopback) or the network address, else nothing', () => {
    const net = (o: object) => o as Parameters<typeof endpointOf>[0];
    assert.deepEqual(endpointOf(net({ Ports: { [PORT_KEY]: [{ HostIp: '127.0.0.1', HostPort: '40123' }] } }), ctx), { address: '127.0.0.1', port: 40123 });
    assert.equal(endpointOf(net({ Ports: {} }), ctx), undefined);
    assert.equal(endpointOf(net({ Ports: { [PORT_KEY]: [{ HostIp: '127.0.0.1', HostPort: 'x' }] } }), ctx), undefined);
    assert.deepEqual(endpointOf(net({ Networks: { fnnet: { IPAddress: '172.20.0.5' } } }), { mode: 'network', network: 'fnnet' }), { address: '172.20.0.5', port: 8080 });
    assert.equal(endpointOf(net({ Networks: { other: { IPAddress: '172.20.0.5' } } }), { mode: 'network', network: 'fnnet' }), undefined);
  });

  test('the start-up sweep keeps referenced sandboxes only', () => {
    assert.deepEqual(unreferencedSandboxes(['a', 'b', 'c'], new Set(['b'])), ['a', 'c']);
    assert.deepEqual(unreferencedSandboxes([], new Set(['b'])), []);
  });
});

describe('network sandboxes on dockerd', () => {
  const def = defOf(`sbx-${uid}`, tempFunction(path.join(ROOT, 'functions', 'hello')));
  let image: string;
  let pool: SandboxPool;
  let driver: DockerDriver;
  let stopWatch: (() => void) | undefined;
  const exits: string[] = [];

  before(async () => {
    await ensureBaseImages();
    image = (await ensureFunctionImage(docker, def, { baseImage: BASE, stack, logger })).tag;
    pool = new SandboxPool({ docker, ctx, image: BASE, size: 1, log: logger, retryMs: 100 });
    driver = new DockerDriver(docker, stack, 'loopback', 'unused', logger, '', undefined, undefined, undefined, pool);
    stopWatch = await driver.watchExits((id) => void exits.push(id));
  });
  after(async () => {
    stopWatch?.();
    await pool?.close();
    for (const id of await allOf()) await docker.getContainer(id).remove({ force: true }).catch(() => undefined); // already gone unless a test failed
    await docker.getImage(image).remove({ force: true }).catch(() => undefined); // shared by nothing else
    removeTempFunctions();
  });

  test('a cold start joins a ready sandbox, serves on its port, and stop removes both', async () => {
    await pool.start(new Set());
    await until('a sandbox ready', async () => (await sandboxesOf()).length === 1 && pool.readyCount === 1);
    const [sandbox] = await sandboxesOf();
    const run = await driver.start({ def, image, instanceId: `${uid}-a` });
    const info = await docker.getContainer(run.containerId).inspect();
    assert.equal(info.HostConfig.NetworkMode, `container:${sandbox}`);
    await waitReady(run.port);
    assert.deepEqual(await get(run.port, '/?name=sbx'), { status: 200, body: 'Hello, sbx!\n' });
    assert.deepEqual(await driver.locate(run.containerId), { address: '127.0.0.1', port: run.port });
    // The pool refills behind the start.
    await until('a new sandbox ready', () => pool.readyCount === 1);
    await driver.stop(run.containerId, 1);
    assert.ok(!(await allOf()).includes(run.containerId), 'the instance is gone');
    // Its sandbox goes right after, off the instance's stop path.
    await until('its sandbox removed', async () => !(await allOf()).includes(sandbox!));
    await until('only the refilled sandbox left', async () => (await allOf()).length === 1);
  });

  test('with no sandbox ready the instance gets its own network', async () => {
    const taken = pool.take();
    assert.ok(taken);
    const run = await driver.start({ def, image, instanceId: `${uid}-b` });
    const info = await docker.getContainer(run.containerId).inspect();
    assert.notEqual(info.HostConfig.NetworkMode?.startsWith('container:'), true);
    await waitReady(run.port);
    await driver.stop(run.containerId, 1);
    await pool.remove(taken.id);
  });

  test('a sandbox that dies takes its instance with it', async () => {
    await until('a sandbox ready', () => pool.readyCount === 1);
    const run = await driver.start({ def, image, instanceId: `${uid}-c` });
    const sandbox = (await docker.getContainer(run.containerId).inspect()).HostConfig.NetworkMode!.slice('container:'.length);
    await docker.getContainer(sandbox).kill();
    await until('the instance killed (die event)', () => exits.includes(run.containerId));
    assert.ok(lines.some((l) => l.event === 'sandbox_died' && l.containerId === run.containerId));
    await driver.stop(run.containerId, 0);
  });

  test('close() leaves none; the start-up sweep removes a crashed run\'s idle sandboxes', async () => {
    await until('a sandbox ready', () => pool.readyCount === 1);
    await pool.close();
    assert.deepEqual(await allOf(), []);
    // A run that crashed: its pool made a sandbox and never closed.
    const crashed = new SandboxPool({ docker, ctx, image: BASE, size: 1, log: logger });
    await crashed.start(new Set());
    await until('the crashed run\'s sandbox ready', () => crashed.readyCount === 1);
    const next = new SandboxPool({ docker, ctx, image: BASE, size: 0, log: logger });
    await next.start(new Set());
    assert.deepEqual(await sandboxesOf(), []);
    assert.ok(lines.some((l) => l.event === 'sandboxes_removed_at_start' && l.count === 1));
  });
});
