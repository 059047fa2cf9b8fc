/**
 * End to end through docker-compose on a machine without the public images: build every image
 * offline (scripts/make-offline-images.sh, cached by input hashes), bring the stack up with
 * docker-compose.offline.yml under a unique project name, wait for health, call a cold function
 * through the published port on 127.0.0.1, run a short burst, see a burst against `sleep` scale it
 * out to more than one container, check from inside a function
 * container that only the router is reachable, then `down -v` and check nothing is left.
 * Skipped (with the reason) when Docker, a Compose CLI or debootstrap is missing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { LABELS } from '@faas/contracts';
import { containers, docker, root } from './helpers';

const run = promisify(execFile);
const step = (msg: string): void => { process.stderr.write(`e2e-compose: ${msg}\n`); };
const project = `faas-e2e-${process.pid}`;
const stack = `e2e-${process.pid}`;
const fnNetwork = `${project}-functions`;
/** The definitions this test runs on and edits: a copy under the checkout's .faas/ (git-ignored). */
const defsDir = path.join(root, '.faas', `e2e-defs-${process.pid}`);
const defsFile = path.join(defsDir, 'global-function-definition.yml');
const env: NodeJS.ProcessEnv = { ...process.env, FAAS_STACK: stack, FAAS_FUNCTIONS_NETWORK: fnNetwork, FAAS_GATEWAY_BIND: '127.0.0.1' };
let composeCmd: string[] = [];
let skipReason = '';
let base = '';

async function ok(cmd: string, args: string[]): Promise<boolean> {
  try { await run(cmd, args, { timeout: 30_000 }); return true; } catch { return false; }  // probe only: absence is the answer
}

async function compose(args: string[], timeoutMs: number): Promise<string> {
  const [cmd, ...pre] = composeCmd;
  const r = await run(cmd!, [...pre, '-p', project, '-f', 'docker-compose.yml', '-f', 'docker-compose.offline.yml', ...args], { cwd: root, env, timeout: timeoutMs, maxBuffer: 16 << 20 });
  return r.stdout + r.stderr;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** GET with a hard bound (node:http: its socket keeps the event loop alive while waiting). */
function get(path: string, boundMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${path}`, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${path}: no answer within ${boundMs} ms`)), boundMs);
    req.on('error', reject).on('close', () => clearTimeout(timer));
  });
}

/** POST with the same bound as get(). */
function post(path: string, body: string, boundMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    const timer = setTimeout(() => req.destroy(new Error(`POST ${path}: no answer within ${boundMs} ms`)), boundMs);
    req.on('error', reject).on('close', () => clearTimeout(timer));
    req.end(body);
  });
}

/** Poll `check` until it returns true, at most `boundMs`. */
async function waitFor(what: string, boundMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (await check().catch(() => false)) return;  // not up yet: keep polling until the bound
    if (Date.now() > deadline) throw new Error(`timed out after ${boundMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function projectLeftovers(): Promise<string[]> {
  const label = `com.docker.compose.project=${project}`;
  const [cs, fns, nets, vols] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [label] } }),
    containers(stack),
    docker.listNetworks({ filters: { name: [project] } }),
    docker.listVolumes({ filters: { label: [label] } }),
  ]);
  return [
    ...cs.map((c) => `container ${c.Names[0]}`), ...fns.map((c) => `function container ${c.Names[0]}`),
    ...nets.map((n) => `network ${n.Name}`), ...(vols.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

before(async () => {
  if (!(await ok('docker', ['info']))) { skipReason = 'docker daemon not reachable'; return; }
  if (await ok('docker', ['compose', 'version'])) composeCmd = ['docker', 'compose'];
  else if (await ok('docker-compose', ['version'])) composeCmd = ['docker-compose'];
  else { skipReason = 'no docker compose / docker-compose'; return; }
  if (!(await ok('sh', ['-c', 'command -v debootstrap']))) { skipReason = 'debootstrap not installed'; return; }
  step('building the offline images');
  // First run: debootstrap (a few minutes); later runs reuse the cached root and images.
  await run('bash', ['scripts/make-offline-images.sh'], { cwd: root, timeout: 20 * 60_000, maxBuffer: 16 << 20 });
  // A copy of the definitions and functions the test may edit (inside the mounted checkout, so the
  // orchestrator sees it at /app/project/...; made after the offline images are staged).
  fs.mkdirSync(defsDir, { recursive: true });
  fs.copyFileSync(path.join(root, 'global-function-definition.yml'), defsFile);
  fs.cpSync(path.join(root, 'functions'), path.join(defsDir, 'functions'), { recursive: true });
  env.FAAS_DEFINITIONS_FILE = path.relative(root, defsFile);
  env.FAAS_GATEWAY_PORT = String(await freePort());
  base = `http://127.0.0.1:${env.FAAS_GATEWAY_PORT}`;
  step(`up -p ${project} on ${base}`);
  await compose(['up', '-d', '--no-build'], 5 * 60_000);
  step('waiting for the gateway');
  await waitFor('the gateway to answer /healthz', 90_000, async () => (await get('/healthz', 2000)).status === 200);
  // The orchestrator has no readiness check yet (its compose health check is "process runs"),
  // so wait for its own `ready` event before calling functions.
  await waitFor('the orchestrator to log ready', 90_000, async () => /"event":"ready"/.test(await compose(['logs', '--no-color', 'orchestrator'], 30_000)));
});

after(async () => {
  if (composeCmd.length === 0 || skipReason) return;
  // Whatever happened, leave nothing of this project behind.
  await compose(['down', '-v', '--remove-orphans', '-t', '30'], 120_000).catch((err: unknown) => console.error(`e2e-compose: down failed: ${String(err)}`));
  for (const c of await containers(stack)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);  // already gone
  for (const n of await docker.listNetworks({ filters: { name: [project] } })) await docker.getNetwork(n.Id).remove().catch(() => undefined);  // already gone
  fs.rmSync(defsDir, { recursive: true, force: true });
});

test('a cold function answers through the published gateway port', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  const res = await get('/hello', 60_000);
  if (res.status !== 200) step(`cold call failed:\n${await compose(['logs', '--tail', '15', 'orchestrator', 'gateway', 'envoy'], 60_000)}`);
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /Hello/);
});

test('a short burst is served', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  const statuses = await Promise.all(Array.from({ length: 30 }, async () => (await get('/hello', 60_000)).status));
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.ok((await containers(stack, 'hello')).length >= 1);
});

test('a burst against a function of small concurrency scales it out to more than one container', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  // `sleep` has concurrency 4 and max_instances 4 in the mounted definition file: 16 requests of
  // 2 s at once want all four (held wakes size the cold start; router queues add more).
  const burst = Promise.all(Array.from({ length: 16 }, () => get('/sleep?ms=2000', 90_000)));
  let most = 0;
  await waitFor('more than one sleep container', 60_000, async () => {
    most = Math.max(most, (await containers(stack, 'sleep')).length);
    return most > 1;
  });
  const statuses = (await burst).map((r) => r.status);
  assert.deepEqual([...new Set(statuses)], [200], `statuses of the burst (most containers seen: ${most})`);
});

/** Runs in the function container: connect attempts (2 s bound each) and a socket check. */
const PROBE = `
const net = require('net'), fs = require('fs');
// The connect timeout starts once the name is resolved: a slow lookup (the unresolvable name
// ties up a resolver thread) must not read as an unreachable port.
const probe = (host, port) => new Promise((r) => {
  const s = net.connect({ host, port });
  const give = (why) => setTimeout(() => { s.destroy(); r(why); }, 3000);
  let t = net.isIP(host) ? give('timeout') : setTimeout(() => { s.destroy(); r('lookup_timeout'); }, 20000);
  s.on('lookup', () => { clearTimeout(t); t = give('timeout'); });
  s.on('connect', () => { clearTimeout(t); s.destroy(); r('open'); });
  s.on('error', (e) => { clearTimeout(t); r(e.code); });
});
(async () => {
  const out = { 'docker.sock': fs.existsSync('/var/run/docker.sock') ? 'present' : 'absent' };
  const ts = JSON.parse(process.argv[1]);
  // What must be open first, one by one: names this network does not know are forwarded to
  // resolvers it cannot reach, and those slow lookups fill the resolver threads for seconds.
  const first = ts.filter((t) => t[0] === 'envoy' || t[0] === 'gateway');
  for (const t of first) out[t[0] + ':' + t[1]] = await probe(t[0], t[1]);
  const rest = ts.filter((t) => !first.includes(t));
  const rs = await Promise.all(rest.map((t) => probe(t[0], t[1])));
  rest.forEach((t, i) => { out[t[0] + ':' + t[1]] = rs[i]; });
  console.log(JSON.stringify(out));
})();`;

test('fanclub calls getavatar from inside its container through the gateway (FAAS_CALL_URL)', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  const res = await fetch(`${base}/fanclub`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(90_000),
    body: JSON.stringify({ action: 'created', sender: { login: 'octocat' }, repository: { full_name: 'octo-org/hello' } }),
  });
  const text = await res.text();
  if (res.status !== 200) step(`fanclub failed: ${text}\n${await compose(['logs', '--tail', '15', 'orchestrator', 'gateway'], 60_000)}`);
  assert.equal(res.status, 200, text);
  assert.match((JSON.parse(text) as { avatar: { dataUri: string } }).avatar.dataUri, /^data:image\/png;base64,/);
});

test('a function container reaches the router and the gateway, nothing else', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  // A function no burst scaled out: its one instance is not drained under the probe (hello's
  // extra instances from the burst above leave while panic ends, killing a `docker exec` in them).
  assert.equal((await get('/echo', 60_000)).status, 200);
  const [fn] = await docker.listContainers({ filters: { label: [`${LABELS.stack}=${stack}`, `${LABELS.function}=echo`], status: ['running'] } });
  assert.ok(fn, 'an echo container runs');
  const ipOn = async (service: string, network: string): Promise<string> => {
    const [c] = await docker.listContainers({ filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`] } });
    const ip = c?.NetworkSettings.Networks[`${project}_${network}`]?.IPAddress;
    assert.ok(ip, `${service} has an address on ${network}`);
    return ip;
  };
  const gatewayOf = async (name: string): Promise<string> =>
    (await docker.getNetwork(name).inspect() as { IPAM: { Config: { Gateway?: string }[] } }).IPAM.Config[0]?.Gateway ?? '';
  const targets: [string, number][] = [
    ['envoy', 10000],                                   // the router: must be open
    ['redis', 6379], [await ipOn('redis', 'control'), 6379],
    ['xds-server', 18001], [await ipOn('xds-server', 'control'), 18001], ['xds-server', 18000],
    ['redis-rest', 7071], [await ipOn('redis-rest', 'control'), 7071],
    ['gateway', 8080],                                  // the entry of call(): must be open
    [await ipOn('gateway', 'edge'), 8080],
    ['outside.invalid', 80],                            // a name that cannot resolve: no internet DNS
    [await gatewayOf(`${project}_edge`), Number(env.FAAS_GATEWAY_PORT)],   // the host side of the stack
  ];
  const { stdout } = await run('docker', ['exec', fn.Id, 'node', '-e', PROBE, JSON.stringify(targets)], { timeout: 60_000 });
  const out = JSON.parse(stdout) as Record<string, string>;
  assert.equal(out['docker.sock'], 'absent', 'no Docker socket');
  assert.equal(out['envoy:10000'], 'open', `the router is reachable: ${stdout}`);
  assert.equal(out['gateway:8080'], 'open', `the gateway is reachable: ${stdout}`);
  for (const [host, port] of targets.filter(([h]) => h !== 'envoy' && h !== 'gateway')) assert.notEqual(out[`${host}:${port}`], 'open', `${host}:${port} must be unreachable: ${stdout}`);
  const info = await docker.getContainer(fn.Id).inspect();
  assert.equal(info.HostConfig.ReadonlyRootfs, true, 'read-only root fs');
  assert.notEqual(info.Config.User, '', 'not root');
  assert.equal(info.Config.Labels[LABELS.stack], stack);
});

test('a secret reaches its function as a read-only file, in no env and no log', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  const demo = fs.readFileSync(path.join(root, 'functions', 'secret', 'demo-token.secret'), 'utf8').trim();
  const res = await post('/secret', JSON.stringify({ token: demo }), 60_000);
  if (res.status !== 200) step(`secret call failed:\n${await compose(['logs', '--tail', '15', 'orchestrator'], 60_000)}`);
  assert.deepEqual([res.status, res.body], [200, '{"match":true}']);
  const [fn] = await containers(stack, 'secret');
  assert.ok(fn, 'a secret container runs');
  const info = await docker.getContainer(fn.Id).inspect();
  const mount = info.Mounts.find((m) => m.Destination === '/run/secrets');
  assert.equal(mount?.RW, false, 'mounted read-only');
  assert.ok(mount?.Source.startsWith(path.join(root, '.faas', 'secrets', stack)), `from the host's .faas/secrets: ${mount?.Source}`);
  assert.ok(!JSON.stringify(info).includes(demo), 'not in the container inspect');
  assert.ok(!(await compose(['logs', '--no-color'], 60_000)).includes(demo), 'not in any service log');
});

test('editing the mounted definition file adds a function live, without a restart', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  fs.appendFileSync(defsFile, '  hello-live:\n    runtime: node\n    code: functions/hello\n    timeout: 10s\n');
  await waitFor('hello-live to answer', 120_000, async () => (await get('/hello-live', 30_000)).status === 200);
  const res = await get('/hello-live', 30_000);
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /Hello/);
});

test('down removes every container, network and volume of the project', async (t) => {
  if (skipReason) { t.skip(skipReason); return; }
  await compose(['down', '-v', '--remove-orphans', '-t', '30'], 120_000);
  assert.deepEqual(await projectLeftovers(), []);
  assert.equal(fs.existsSync(path.join(root, '.faas', 'secrets', stack)), false, "the orchestrator removed its stack's secrets");
});
