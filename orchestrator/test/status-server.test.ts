import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClientErrorBodySchema, type FunctionStatus, StatusResponseSchema, authorizationHeader, createLogger } from '@faas/contracts';
import type { ReloadStatus } from '../src/definition-reload';
import { type StatusServer, isLoopbackHost, startStatusServer } from '../src/status-server';

const log = createLogger('test', {}, () => undefined);
const reload: ReloadStatus = {
  file: '/srv/defs.yml',
  lastApplied: { at: 1, ok: true },
  lastLoad: { at: 2, ok: false, issues: [{ file: '/srv/defs.yml', line: 7, function: 'a', field: 'concurrency', message: 'must be at least 1' }] },
};
const functions: FunctionStatus[] = [{ name: 'a', activeVersion: '1', versions: [{ version: '1', state: 'active', instances: { ready: 1 }, since: 1 }] }];

describe('status server', () => {
  let s: StatusServer;
  let base: string;
  let broken = false;
  before(async () => {
    s = await startStatusServer({
      host: '127.0.0.1', port: 0, log, internalToken: 't',
      source: { reload: () => reload, functions: () => (broken ? ([{ name: 1 }] as unknown as FunctionStatus[]) : functions) },
    });
    base = `http://127.0.0.1:${s.port}`;
  });
  after(() => s?.close());

  it('GET /v1/status answers the contract, issues with their line', async () => {
    const res = await fetch(`${base}/v1/status?x=1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const body = StatusResponseSchema.parse(await res.json());
    assert.deepEqual(body, { ...reload, functions });
  });

  // [method, path, status, error code]
  const errors: [string, string, number, string][] = [
    ['GET', '/', 404, 'not_found'],
    ['GET', '/v1/status/extra', 404, 'not_found'],
    ['GET', '/v1/functions', 404, 'not_found'],
    ['POST', '/v1/status', 405, 'method_not_allowed'],
    ['DELETE', '/v1/status', 405, 'method_not_allowed'],
  ];
  for (const [method, p, status, code] of errors) {
    it(`${method} ${p} -> ${status} ${code}`, async () => {
      const res = await fetch(`${base}${p}`, { method });
      assert.equal(res.status, status);
      const body = ClientErrorBodySchema.parse(await res.json());
      assert.equal(body.error, code);
      if (status === 405) assert.equal(res.headers.get('allow'), 'GET, HEAD');
    });
  }

  it('a status that breaks the contract is a JSON 500, not a broken body', async () => {
    broken = true;
    try {
      const res = await fetch(`${base}/v1/status`);
      assert.equal(res.status, 500);
      assert.equal(ClientErrorBodySchema.parse(await res.json()).error, 'internal_error');
    } finally {
      broken = false;
    }
  });
});

describe('status server with the token required (any address but loopback)', () => {
  let s: StatusServer;
  before(async () => {
    s = await startStatusServer({ host: '127.0.0.1', port: 0, log, internalToken: 'secret', requireToken: true, source: { reload: () => reload, functions: () => [] } });
  });
  after(() => s?.close());
  it('401 without it, 200 with it', async () => {
    const url = `http://127.0.0.1:${s.port}/v1/status`;
    const no = await fetch(url);
    assert.equal(no.status, 401);
    assert.equal(ClientErrorBodySchema.parse(await no.json()).error, 'unauthorized');
    assert.equal((await fetch(url, { headers: authorizationHeader('secret') })).status, 200);
  });
  it('loopback addresses are told apart', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'status.example']) assert.equal(isLoopbackHost(h), false, h);
  });
});
