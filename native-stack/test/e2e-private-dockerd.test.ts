/**
 * Ctrl-C of a stack that started its own dockerd leaves no container (issue 6 items 2 and 8).
 * `npm run stack` (scripts/stack.sh) with DOCKER_HOST on a private socket: prereqs.sh starts a
 * dockerd of its own there (own session, own data/exec root, a bridge this test creates with its
 * own subnet, no iptables rules), builds the base images into it, the stack wakes a function in
 * it; SIGINT to the stack's process group must exit 0, remove the container, then stop that
 * dockerd, leaving an empty container store (what dockerd would load on its next start). The
 * shared dockerd on /var/run/docker.sock is never touched. Traffic: 127.0.0.1 and the test's bridge.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { LABELS } from '@faas/contracts';
import { containers, docker as sharedDocker, root, writeDefinitions } from './helpers';
import { LogWatch } from './load';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

/** A /24 in 10.0.0.0/8 that no route on this machine uses. */
function freeSubnet(): string {
  const routes = ip('-4', 'route', 'show', 'table', 'all');
  for (let i = 0; i < 50; i += 1) {
    const net = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;
    if (!routes.includes(`${net}.`)) return net;
  }
  throw new Error('no free 10.x.y.0/24 for the test bridge');
}

/** Running (a zombie waiting for its reaper counts as stopped). */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // no such process
  }
};

const exitOf = async (child: ChildProcess): Promise<number | null> =>
  child.exitCode ?? (await once(child, 'exit') as [number | null])[0];

describe('npm run stack with its own dockerd: Ctrl-C leaves no container', { timeout: 600_000 }, () => {
  const id = `pdock-${randomBytes(3).toString('hex')}`;
  const bridge = `faaspd${randomBytes(3).toString('hex')}`;
  // Short: a unix socket path has at most 107 bytes, containerd's lives under the exec root.
  const dir = fs.mkdtempSync('/tmp/faas-pd-');
  const socket = path.join(dir, 'docker.sock');
  const privateDocker = new Docker({ socketPath: socket });
  const logs = new LogWatch();
  let stack: ChildProcess | undefined;
  let bridgeMade = false;

  /** The private dockerd's own pid file (written by dockerd, --pidfile). */
  const dockerdPid = (): number | undefined => {
    const f = path.join(dir, 'dockerd.pid');
    return fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8').trim()) : undefined;
  };

  before(async () => {
    const net = freeSubnet();
    ip('link', 'add', 'name', bridge, 'type', 'bridge');
    bridgeMade = true;
    ip('addr', 'add', `${net}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const env = {
      ...process.env,
      DOCKER_HOST: `unix://${socket}`, FAAS_DOCKERD_BRIDGE: bridge,
      FAAS_STACK: id, FAAS_STATE_DIR: path.join(dir, 'stack'), FAAS_NATIVE_PORTS: 'free', FAAS_RUN_ID: '',
      FAAS_DEFINITIONS: writeDefinitions(dir, { hello: { version: '1', idle_timeout: '300s' } }),
    };
    // Own process group, as a terminal's foreground job: SIGINT goes to the whole group.
    stack = spawn('bash', [path.join(root, 'scripts', 'stack.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const feed = (l: string) => logs.sink(l.slice(0, 15).trim(), l.slice(16));
    readline.createInterface({ input: stack.stdout! }).on('line', feed);
    readline.createInterface({ input: stack.stderr! }).on('line', feed);
    await logs.waitFor((l) => l.startsWith('stack ') && l.includes('"event":"ready"') && l.includes('"runId"'), 1, 480_000, 'stack ready on its own dockerd');
  });

  after(async () => {
    if (process.env.FAAS_TEST_LOG_FILE) fs.writeFileSync(process.env.FAAS_TEST_LOG_FILE, logs.lines.join('\n'));
    // Whatever happened: stop what this test started, the private dockerd by its own pid only.
    if (stack && stack.exitCode === null && stack.signalCode === null) {
      process.kill(-stack.pid!, 'SIGINT');
      await exitOf(stack);
    }
    const pid = dockerdPid();
    if (pid !== undefined && alive(pid)) {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 120 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 250));
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    // A dockerd that died hard may leave mounts under its data root.
    const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
    for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (bridgeMade) ip('link', 'del', bridge);
    // The shared dockerd is untouched.
    await sharedDocker.ping();
  });

  it('the function runs in the private dockerd; Ctrl-C exits 0, removes it, stops that dockerd', async () => {
    const tail = () => `\n${logs.lines.slice(-25).join('\n')}`;
    const lock = JSON.parse(fs.readFileSync(path.join(dir, 'stack', 'stack.json'), 'utf8')) as { ports: { gateway: number } };
    const res = await fetch(`http://127.0.0.1:${lock.ports.gateway}/hello`);
    assert.equal(res.status, 200, await res.text());
    // Function containers only: the stack's network sandboxes live in that dockerd too.
    const mine = await privateDocker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${id}`, `${LABELS.function}=hello`] } });
    assert.equal(mine.length, 1, `the woken instance is a container of the private dockerd${tail()}`);
    assert.deepEqual(await containers(id), [], 'nothing of this stack in the shared dockerd');
    const pid = dockerdPid();
    assert.ok(pid !== undefined && alive(pid), 'the private dockerd runs');

    process.kill(-stack!.pid!, 'SIGINT');
    assert.equal(await exitOf(stack!), 0, `a stop on request exits 0${tail()}`);
    // cleanup.sh waited for it; a dockerd still running here failed to stop.
    assert.ok(!alive(pid), `the private dockerd was stopped${tail()}`);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'data', 'containers')), [], `no container left for the next start of that dockerd${tail()}`);
    const failed = logs.lines.filter((l) => l.includes('container_stop_failed') || l.includes('container_leak'));
    assert.deepEqual(failed, [], 'every container was removed while dockerd still ran');
  });
});
