/**
 * Functions calling functions through the whole native stack: fanclub (Python) calls getavatar
 * (Node) from cold through the gateway's unix socket mounted into its container; the request id
 * travels along; the depth limit answers its JSON error; a Node function calls the Python `add`;
 * the host-side client calls `add`; the socket directory is the only thing the containers gained.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { CallError, call } from '@faas/call';
import { CALL_HEADERS, CALL_MAX_DEPTH, CALL_SOCKET, ClientErrorBodySchema, HEADERS } from '@faas/contracts';
import { type Definitions, containers, copyCode, docker, root, writeExampleDefinitions } from './helpers';
import { useTestStack } from './test-stack';

const run = promisify(execFile);
/** The suite's log lines (the access log helpers read them). */
let logs: readonly string[] = [];

/** The relay fixture, its code copied next to the definition file (code must lie in its tree). */
const relay = (dir: string): Definitions => ({
  relay: { runtime: 'node', version: '1', code: copyCode(dir, path.join(root, 'native-stack', 'test', 'fixtures', 'relay')), concurrency: 16, timeout: '30s' },
});

const star = (login: string) => ({ action: 'created', sender: { login }, repository: { full_name: 'octo-org/hello', stargazers_count: 42 } });

/** The gateway's access log lines (JSON) for a function and request id. */
function accessLines(fn: string, requestId: string): Record<string, unknown>[] {
  return logs
    .filter((l) => l.startsWith('gateway {'))
    .map((l) => JSON.parse(l.slice('gateway '.length)) as Record<string, unknown>)
    .filter((e) => e.event === 'request' && e.fn === fn && e.requestId === requestId);
}

/** The gateway follows its access log file: wait (bounded) until `count` lines are there. */
async function waitAccessLines(fn: string, requestId: string, count: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100 && accessLines(fn, requestId).length < count; i++) await new Promise((r) => setTimeout(r, 50));
  return accessLines(fn, requestId);
}

describe('functions calling functions end to end', { timeout: 180_000 }, () => {
  const suite = useTestStack('e2e-call', {
    wakeTimeoutMs: 30_000,
    definitions: (dir) => writeExampleDefinitions(dir, ['getavatar', 'fanclub', 'add'], relay(dir)),
    afterStop: async () => {
      assert.equal(fs.existsSync(path.dirname(suite.stack.callSocket)), false, 'the socket directory is removed at stop');
    },
  });
  const { id, tail } = suite;
  logs = suite.logs.lines;

  it('fanclub (Python) calls getavatar (Node) with both cold; the request id travels along', async () => {
    assert.equal((await containers(id, 'fanclub')).length + (await containers(id, 'getavatar')).length, 0, 'both start cold');
    const rid = `rid-fan-${randomBytes(4).toString('hex')}`;
    const res = await fetch(`${suite.base}/fanclub`, { method: 'POST', headers: { 'content-type': 'application/json', [HEADERS.requestId]: rid }, body: JSON.stringify(star('octocat')) });
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${tail()}`);
    const body = JSON.parse(text) as { fan: string; stars: number; requestId: string; callDepth: number; avatar: { contentType: string; bytes: number; sha256: string; dataUri: string } };
    assert.equal(body.fan, 'octocat');
    assert.equal(body.stars, 42);
    assert.equal(body.requestId, rid);
    assert.equal(body.callDepth, 0);
    const png = Buffer.from(body.avatar.dataUri.replace(/^data:image\/png;base64,/, ''), 'base64');
    assert.deepEqual(png.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'a PNG');
    assert.equal(png.length, body.avatar.bytes);
    assert.equal(createHash('sha256').update(png).digest('hex'), body.avatar.sha256);
    // Both were held for a cold start; the inner call went through the gateway with the same id.
    assert.match(res.headers.get(HEADERS.heldMs) ?? '', /^\d+$/, 'fanclub was cold');
    const inner = await waitAccessLines('getavatar', rid, 1);
    assert.equal(inner.length, 1, `one getavatar request with the caller's id in the gateway log\n${tail()}`);
    assert.equal(inner[0]?.status, 200);
    assert.match(String(inner[0]?.heldMs), /^\d+$/, 'getavatar was cold');
    // And in getavatar's own log line, with its depth.
    const [c] = await containers(id, 'getavatar');
    assert.ok(c);
    const out = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true })).toString();
    const line = out.split('\n').find((l) => l.includes('"event":"avatar"') && l.includes(rid));
    assert.ok(line, `getavatar logged the request id:\n${out}`);
    assert.match(line, /"callDepth":1/);
    // Deterministic: the same login gives the same image when asked directly.
    const direct = await fetch(`${suite.base}/getavatar?login=octocat&size=64`);
    assert.equal(direct.headers.get('content-type'), 'image/png');
    assert.equal(createHash('sha256').update(Buffer.from(await direct.arrayBuffer())).digest('hex'), body.avatar.sha256);
  });

  it(`the depth limit (${CALL_MAX_DEPTH}) answers call_depth_exceeded as JSON`, async () => {
    const direct = await fetch(`${suite.base}/add`, { method: 'POST', headers: { [CALL_HEADERS.depth]: String(CALL_MAX_DEPTH + 1) }, body: '{"x":1,"y":2}' });
    assert.equal(direct.status, 508);
    assert.equal(ClientErrorBodySchema.parse(await direct.json()).error, 'call_depth_exceeded');
    // fanclub asked at the limit: its call to getavatar would be one too deep.
    const viaFanclub = await fetch(`${suite.base}/fanclub`, { method: 'POST', headers: { [CALL_HEADERS.depth]: String(CALL_MAX_DEPTH) }, body: JSON.stringify(star('octocat')) });
    assert.equal(viaFanclub.status, 508);
    assert.equal(((await viaFanclub.json()) as { error: string }).error, 'call_depth_exceeded');
    // A loop (relay calling itself) ends at the limit instead of running away.
    const rid = `rid-loop-${randomBytes(4).toString('hex')}`;
    const loop = await fetch(`${suite.base}/relay`, { method: 'POST', headers: { [HEADERS.requestId]: rid }, body: JSON.stringify({ to: 'relay', loop: true }) });
    const text = await loop.text();
    assert.equal(loop.status, 508, `${text}\n${tail()}`);
    assert.equal((JSON.parse(text) as { error: string }).error, 'call_depth_exceeded');
    const hops = await waitAccessLines('relay', rid, CALL_MAX_DEPTH + 2);
    assert.equal(hops.length, CALL_MAX_DEPTH + 2, 'depth 0..8 served, depth 9 refused by the gateway');
    assert.equal(hops.filter((h) => h.status === 508).length, CALL_MAX_DEPTH + 2);
  });

  it('a Node function calls the Python add: 3', async () => {
    const res = await fetch(`${suite.base}/relay`, { method: 'POST', body: JSON.stringify({ to: 'add', args: { x: 1, y: 2 } }) });
    const text = await res.text();
    assert.equal(res.status, 200, `${text}\n${tail()}`);
    assert.deepEqual(JSON.parse(text), { answer: 3, depth: 0 });
  });

  it('the host-side client calls add over the gateway port and over the socket: 3', async () => {
    assert.equal(await call('add', { x: 1, y: 2 }, { url: suite.base }), 3);
    assert.equal(await call('add', { x: 1, y: 2 }, { url: `unix:${suite.stack.callSocket}` }), 3);
    await assert.rejects(call('nosuch', {}, { url: suite.base }), (e: unknown) => e instanceof CallError && e.code === 'unknown_function');
  });

  it('the containers gained only the socket directory, read-only; the control plane stays out of reach', async () => {
    const [c] = await containers(id, 'getavatar');
    assert.ok(c);
    const info = await docker.getContainer(c.Id).inspect();
    assert.deepEqual(info.HostConfig.Binds, [`${path.dirname(suite.stack.callSocket)}:${CALL_SOCKET.containerDir}:ro`]);
    assert.deepEqual(info.Mounts.map((m) => [m.Destination, m.RW]), [[CALL_SOCKET.containerDir, false]]);
    assert.equal(info.HostConfig.ReadonlyRootfs, true);
    const ports = [suite.stack.ports.redis, suite.stack.ports.xdsHttp, suite.stack.ports.xdsGrpc, suite.stack.ports.redisRest, suite.stack.ports.gateway, suite.stack.ports.router];
    // Runs as the function's user (uid 10001) inside the container.
    const probe = `
      const net = require('net'), fs = require('fs'), http = require('http');
      const connect = (port) => new Promise((r) => { const s = net.connect({ host: '127.0.0.1', port, timeout: 2000 });
        s.on('connect', () => { s.destroy(); r('open'); }); s.on('timeout', () => { s.destroy(); r('timeout'); }); s.on('error', (e) => r(e.code)); });
      const get = (p) => new Promise((r) => http.get({ socketPath: '${CALL_SOCKET.containerDir}/${CALL_SOCKET.fileName}', path: p }, (res) => {
        let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => r({ status: res.statusCode, body: b })); }).on('error', (e) => r({ error: e.code })));
      (async () => {
        let write; try { fs.writeFileSync('${CALL_SOCKET.containerDir}/x', 'x'); write = 'written'; } catch (e) { write = e.code; }
        const out = { uid: process.getuid(), dir: fs.readdirSync('${CALL_SOCKET.containerDir}'), write, dockerSock: fs.existsSync('/var/run/docker.sock'),
          ports: await Promise.all(${JSON.stringify(ports)}.map(connect)), wake: await get('/_faas/wake/add'), wakeApi: await get('/v1/functions') };
        console.log(JSON.stringify(out));
      })();`;
    const { stdout } = await run('docker', ['exec', c.Id, 'node', '-e', probe], { timeout: 60_000 });
    const out = JSON.parse(stdout) as { uid: number; dir: string[]; write: string; dockerSock: boolean; ports: string[]; wake: { status: number; body: string }; wakeApi: { status: number; body: string } };
    assert.equal(out.uid, 10001);
    assert.deepEqual(out.dir, [CALL_SOCKET.fileName]);
    assert.equal(out.write, 'EROFS', 'the socket directory is read-only');
    assert.equal(out.dockerSock, false);
    assert.ok(out.ports.every((p) => p !== 'open'), `no platform port is reachable from the container: ${stdout}`);
    // Through the socket only function paths exist: the gateway's internal wake location and
    // redis-rest's API are not reachable (JSON: not a function name / no such function).
    assert.equal(out.wake.status, 400, stdout);
    assert.equal(ClientErrorBodySchema.parse(JSON.parse(out.wake.body)).error, 'invalid_name');
    assert.equal(out.wakeApi.status, 404, stdout);
    assert.equal(ClientErrorBodySchema.parse(JSON.parse(out.wakeApi.body)).error, 'unknown_function');
  });
});
