/**
 * Static invariants of docker-compose.yml and docker-compose.offline.yml (the running stack is
 * exercised by e2e-compose.test.ts): every platform command points at a built entry point,
 * functions are isolated from the control plane, only the gateway is published, every service
 * is health-checked and started after what it needs is healthy, and the pieces that must agree
 * (ports, network names, Envoy bootstrap) do. The stand-in appears only in the override.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_PORTS } from '@faas/contracts';
import { root } from './helpers';

interface Service {
  command?: string[];
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  networks?: string[];
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
  restart?: string;
  secrets?: string[];
}
interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean; name?: string } | null>;
  secrets?: Record<string, { file?: string }>;
}

const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;
const offline = parse(read('docker-compose.offline.yml'), { merge: true }) as ComposeFile;
const svc = (name: string): Service => {
  const s = compose.services[name];
  assert.ok(s, `service ${name} exists`);
  return s;
};
const SERVICES = ['redis', 'xds-server', 'statsd-listener', 'redis-rest', 'envoy', 'orchestrator', 'gateway'];

test('every platform service runs a built entry point of this repo', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), [...SERVICES].sort());
  for (const [name, s] of Object.entries(compose.services)) {
    if (s.command?.[0] !== 'node') continue;
    const entry = s.command[1]!;
    assert.match(entry, /^[a-z-]+\/dist\/src\/main\.js$/, `${name}: ${entry}`);
    assert.ok(fs.existsSync(path.join(root, entry)), `${name}: ${entry} is built`);
    assert.notEqual(entry.split('/')[0], 'envoy-standin', 'the stand-in is never used in compose');
  }
  assert.ok(svc('envoy').image?.startsWith('envoyproxy/envoy:'), 'compose uses the real Envoy image');
  assert.doesNotMatch(read('docker-compose.yml'), /standin|stand-in/i, 'the default file never names the stand-in');
});

test('docker-compose 1.29 accepts it: no top-level name', () => {
  assert.equal(compose.name, undefined);
});

test('function containers are isolated from the control plane', () => {
  const fnNet = compose.networks.functions;
  assert.equal(fnNet?.internal, true, 'functions network is internal (no internet)');
  assert.equal(compose.networks.control?.internal, true, 'control network is internal');
  assert.equal(svc('orchestrator').environment?.FAAS_NETWORK, fnNet?.name, 'orchestrator attaches functions to that network');
  assert.equal(svc('orchestrator').environment?.ENDPOINT_MODE, 'network');
  for (const name of ['redis', 'redis-rest', 'xds-server', 'statsd-listener']) {
    assert.ok(!(svc(name).networks ?? []).includes('functions'), `${name} is not reachable from functions`);
  }
  assert.ok(svc('envoy').networks?.includes('functions'), 'Envoy reaches the functions');
  // call(): functions reach the platform's public entry, the gateway, and it is their FAAS_CALL_URL.
  assert.ok(svc('gateway').networks?.includes('functions'), 'the gateway is the entry of call() on the functions network');
  assert.equal(svc('orchestrator').environment?.FAAS_CALL_URL, `http://gateway:${DEFAULT_PORTS.gateway}`);
  for (const name of SERVICES.filter((n) => n !== 'orchestrator')) {
    assert.ok(!(svc(name).volumes ?? []).some((v) => v.includes('docker.sock')), `${name} has no Docker socket`);
  }
});

test('only the gateway is published; every service is health-checked, restarted and ordered by health', () => {
  for (const name of SERVICES) {
    const s = svc(name);
    if (name !== 'gateway') assert.equal(s.ports, undefined, `${name} publishes nothing`);
    assert.ok((s.healthcheck?.test?.length ?? 0) > 1, `${name} has a health check`);
    assert.equal(s.restart, 'unless-stopped', `${name} restarts`);
    if (s.command?.[0] === 'node') assert.equal(s.environment?.FAAS_STACK, '${FAAS_STACK:-compose}', `${name} knows its stack`);
    for (const [dep, cond] of Object.entries(s.depends_on ?? {})) {
      assert.ok(SERVICES.includes(dep), `${name} depends on a known service ${dep}`);
      assert.equal(cond.condition, 'service_healthy', `${name} waits for ${dep} to be healthy`);
    }
  }
  assert.ok(svc('gateway').depends_on?.envoy && svc('gateway').depends_on?.['redis-rest'], 'the gateway starts last');
});

test('the internal APIs read the shared secret from a file', () => {
  assert.equal(compose.secrets?.['faas-internal-token']?.file, './.faas/internal-token');
  for (const name of ['xds-server', 'redis-rest', 'orchestrator', 'gateway']) {
    assert.equal(svc(name).environment?.FAAS_INTERNAL_TOKEN_FILE, '/run/secrets/faas-internal-token', name);
    assert.ok(svc(name).secrets?.includes('faas-internal-token'), `${name} mounts the secret`);
  }
});

test('ports, names and the Envoy bootstrap agree', () => {
  assert.deepEqual(svc('gateway').ports, [`\${FAAS_GATEWAY_BIND:-0.0.0.0}:\${FAAS_GATEWAY_PORT:-${DEFAULT_PORTS.gateway}}:${DEFAULT_PORTS.gateway}`]);
  assert.equal(svc('orchestrator').environment?.XDS_URL, `http://xds-server:${DEFAULT_PORTS.xdsHttp}`);
  assert.equal(svc('xds-server').environment?.ROUTER_PORT, String(DEFAULT_PORTS.router));
  const envoyYaml = read(path.join('envoy', 'envoy.yaml'));
  assert.match(envoyYaml, new RegExp(`address: xds-server, port_value: ${DEFAULT_PORTS.xdsGrpc}`), 'Envoy dials xds-server on the ADS port');
  assert.match(envoyYaml, new RegExp(`port_value: ${DEFAULT_PORTS.statsd}\\s+protocol: UDP`), 'statsd sink on the listener port');
  assert.match(envoyYaml, /address: 127\.0\.0\.1, port_value: 9901/, 'admin bound to localhost');
  assert.ok(svc('envoy').volumes?.some((v) => v.startsWith('./envoy/envoy.yaml:')), 'Envoy mounts the repo bootstrap');
  assert.ok(svc('orchestrator').volumes?.some((v) => v.startsWith('/var/run/docker.sock:')));
  assert.ok(fs.existsSync(path.join(root, 'gateway-openresty', 'Dockerfile')), 'gateway image recipe exists');
});

test('live definitions: the file\'s directory is mounted (not the file), the status port stays unpublished', () => {
  const o = svc('orchestrator');
  // As compose interpolates it without FAAS_DEFINITIONS_FILE set: the default file.
  const file = (o.environment?.FAAS_DEFINITIONS ?? '').replace(/\$\{FAAS_DEFINITIONS_FILE:-([^}]+)\}/, '$1');
  const mount = (o.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target !== undefined && file.startsWith(`${target}/`));
  assert.ok(mount, `a volume holds ${file}`);
  assert.ok(fs.statSync(path.join(root, mount[0] ?? '')).isDirectory(), 'mounted as a directory, so a replaced file is seen');
  assert.ok(fs.existsSync(path.join(root, mount[0] ?? '', path.relative(mount[1] ?? '', file))), 'the definition file is in it');
  assert.equal(o.environment?.FAAS_STATUS_PORT, String(DEFAULT_PORTS.status));
  assert.equal(o.ports, undefined, 'GET /v1/status is not published');
});

test('the offline override replaces only images, and is where the stand-in lives', () => {
  for (const [name, s] of Object.entries(offline.services)) {
    assert.ok(compose.services[name], `override service ${name} exists in the main file`);
    const keys = Object.keys(s).filter((k) => !['image', 'build', 'user', 'environment'].includes(k));
    assert.deepEqual(keys, [], `${name}: the override changes only images (and base image env)`);
  }
  assert.equal(offline.services.envoy?.image, 'faas-envoy-standin:local');
  assert.equal(offline.networks, undefined, 'the override keeps the networks');
});

test('docker-compose accepts the files (when installed)', (t) => {
  const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8' });
  if (probe.status !== 0) { t.skip('docker-compose not installed'); return; }
  const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.offline.yml', 'config', '-q'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
