/**
 * The Python runtime with a function's requirements on PYTHONPATH (as images put them in
 * /opt/faas/deps): the runtime itself keeps using only the standard library, even when a
 * package shadows a stdlib module, and the handler imports the packages.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { request, spawnRuntime, waitReady } from '../src/index';

const server = path.resolve(__dirname, '..', '..', '..', 'python', 'server.py');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-pydeps-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('requirements on PYTHONPATH: a package named like a stdlib module does not replace it for the runtime; the handler imports packages', async (t) => {
  const deps = path.join(work, 'deps');
  const code = path.join(work, 'function');
  fs.mkdirSync(deps);
  fs.mkdirSync(code);
  // The runtime imports json and http.server: had these won, it could not start.
  fs.writeFileSync(path.join(deps, 'json.py'), 'raise ImportError("shadowing json from deps")\n');
  fs.writeFileSync(path.join(deps, 'tinydep.py'), 'def shout(s):\n    return s.upper() + "!"\n');
  fs.writeFileSync(path.join(code, 'index.py'), [
    'import json, tinydep',
    'def handler(event, context):',
    '    return {"statusCode": 200, "body": tinydep.shout("hi") + " " + json.__file__.endswith("json/__init__.py").__str__()}',
    '',
  ].join('\n'));
  const rt = await spawnRuntime({ name: 'python', command: process.env.FAAS_PYTHON ?? '/usr/bin/python3', args: ['-B', server], fixturesDir: code }, { PYTHONPATH: deps, FAAS_HANDLER: 'index.handler' });
  t.after(() => rt.kill());
  await waitReady(rt);
  const r = await request(rt.port, { path: '/' });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'HI! True');
});
