/** faas_call.py (the single-file Python client) against the same local entry, run by the host's python3. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CALL_ENV, CALL_HEADERS, CLIENT_ERROR_CODES } from '@faas/contracts';
import { type Entry, startEntry } from './server';

const PYTHON_DIR = path.resolve(__dirname, '..', '..', '..', 'python');
const run = promisify(execFile);

async function py(script: string, env: Record<string, string> = {}): Promise<unknown> {
  const { stdout } = await run(process.env.FAAS_PYTHON ?? '/usr/bin/python3', ['-B', '-c', `import json, sys\nsys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})\nimport faas_call\n${script}`], { env: { PATH: process.env.PATH ?? '', ...env } });
  return JSON.parse(stdout) as unknown;
}

const errorOf = (expr: string) => `try:\n    ${expr}\n    print(json.dumps(None))\nexcept faas_call.CallError as e:\n    print(json.dumps({"code": e.code, "status": e.status, "requestId": e.request_id, "body": e.body if isinstance(e.body, (dict, list)) else None}))`;

describe('faas_call.py', () => {
  let e: Entry;
  before(async () => { e = await startEntry(); });
  after(() => e.close());

  test('repeats the contracts exactly', async () => {
    const got = await py('print(json.dumps({"env": faas_call.CALL_URL_ENV, "rid": faas_call.REQUEST_ID_HEADER, "depth": faas_call.DEPTH_HEADER, "deadline": faas_call.DEADLINE_HEADER, "codes": sorted(faas_call.PLATFORM_ERROR_CODES)}))');
    assert.deepEqual(got, { env: CALL_ENV.url, rid: CALL_HEADERS.requestId, depth: CALL_HEADERS.depth, deadline: CALL_HEADERS.deadlineMs, codes: [...CLIENT_ERROR_CODES].sort() });
  });

  for (const via of ['tcp', 'unix'] as const) {
    test(`call("add", {"x": 1, "y": 2}) is 3 over ${via} (FAAS_CALL_URL)`, async () => {
      assert.equal(await py('print(json.dumps(faas_call.call("add", {"x": 1, "y": 2})))', { [CALL_ENV.url]: via === 'tcp' ? e.url : e.unixUrl }), 3);
      assert.equal(e.seen.at(-1)!.headers[CALL_HEADERS.depth], '1');
    });
  }

  test('text and bytes answers', async () => {
    assert.deepEqual(await py(`print(json.dumps([faas_call.call("text", "you", url=${JSON.stringify(e.url)}), list(faas_call.call("bytes", url=${JSON.stringify(e.url)}))]))`), ['hi you', [0x89, 0x50, 0x4e, 0x47]]);
  });

  test('the bound request context: id, depth + 1, remaining deadline', async () => {
    await py(`faas_call.bind(faas_call.CallContext("rid-py", 10000, 4))\nfaas_call.call("add", {"x": 1, "y": 1}, url=${JSON.stringify(e.url)}, now=lambda: 7.5)\nprint("null")`);
    const s = e.seen.at(-1)!;
    assert.equal(s.headers[CALL_HEADERS.requestId], 'rid-py');
    assert.equal(s.headers[CALL_HEADERS.depth], '5');
    assert.equal(s.headers[CALL_HEADERS.deadlineMs], '2500');
  });

  test('typed errors: platform JSON, the function\'s own answer, and the client\'s own failures', async () => {
    const u = JSON.stringify(e.url);
    assert.deepEqual(await py(errorOf(`faas_call.call("deep", {}, url=${u}, request_id="rid-d")`)), { code: 'call_depth_exceeded', status: 508, requestId: 'rid-d', body: { error: 'call_depth_exceeded', message: 'too deep', fn: 'deep', requestId: 'rid-d' } });
    assert.deepEqual(await py(errorOf(`faas_call.call("mine", {}, url=${u})`)), { code: 'function_error', status: 418, requestId: 'gen-1', body: { teapot: true } });
    assert.equal(((await py(errorOf(`faas_call.call("hang", {}, url=${u}, timeout_ms=100)`))) as { code: string }).code, 'upstream_timeout');
    assert.equal(((await py(errorOf(`faas_call.call("badjson", {}, url=${u})`))) as { code: string }).code, 'bad_gateway');
    assert.equal(((await py(errorOf('faas_call.call("add", {}, url="unix:/nonexistent/gateway.sock")'))) as { code: string }).code, 'platform_unavailable');
    assert.equal(((await py(errorOf(`faas_call.call("Bad_Name", {}, url=${u})`))) as { code: string }).code, 'invalid_name');
    const n = e.seen.length;
    assert.equal(((await py(errorOf(`faas_call.call("add", {}, url=${u}, deadline=1000, now=lambda: 1.0)`))) as { code: string }).code, 'upstream_timeout');
    assert.equal(e.seen.length, n, 'nothing is sent past the deadline');
  });
});
