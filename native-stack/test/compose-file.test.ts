/**
 * docker-compose.yml cannot be run on these machines (no registry to pull redis, envoy or
 * openresty images), so its invariants are checked statically: every platform command points
 * at a built entry point, functions are isolated from the control plane, and the pieces that
 * must agree (ports, network names, Envoy bootstrap) do.
 */
import assert from 'node:assert/strict';
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
  depends_on?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  networks: Record<string, { internal?: boolean; name?: string } | null>;
}

const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile;
const svc = (name: string): Service => {
  const s = compose.services[name];
  assert.ok(s, `service ${name} exists`);
  return s;
};

test('every platform service runs a built entry point of this repo', () => {
  for (const [name, s] of Object.entries(compose.services)) {
    if (s.command?.[0] !== 'node') continue;
    const entry = s.command[1]!;
    assert.match(entry, /^[a-z-]+\/dist\/src\/main\.js$/, `${name}: ${entry}`);
    assert.ok(fs.existsSync(path.join(root, entry)), `${name}: ${entry} is built`);
    assert.notEqual(entry.split('/')[0], 'envoy-standin', 'the stand-in is never used in compose');
  }
  assert.ok(svc('envoy').image?.startsWith('envoyproxy/envoy:'), 'compose uses the real Envoy image');
});

test('function containers are isolated from the control plane', () => {
  const fnNet = compose.networks.functions;
  assert.equal(fnNet?.internal, true, 'functions network is internal (no internet)');
  assert.equal(compose.networks.control?.internal, true, 'control network is internal');
  assert.equal(svc('orchestrator').environment?.FAAS_NETWORK, fnNet?.name, 'orchestrator attaches functions to that network');
  assert.equal(svc('orchestrator').environment?.ENDPOINT_MODE, 'network');
  for (const name of ['redis', 'redis-rest', 'xds-server', 'statsd-listener', 'gateway']) {
    assert.ok(!(svc(name).networks ?? []).includes('functions'), `${name} is not reachable from functions`);
  }
  assert.ok(svc('envoy').networks?.includes('functions'), 'Envoy reaches the functions');
});

test('ports, names and the Envoy bootstrap agree', () => {
  assert.deepEqual(svc('gateway').ports, [`${DEFAULT_PORTS.gateway}:${DEFAULT_PORTS.gateway}`]);
  assert.equal(svc('orchestrator').environment?.XDS_URL, `http://xds-server:${DEFAULT_PORTS.xdsHttp}`);
  assert.equal(svc('xds-server').environment?.ROUTER_PORT, String(DEFAULT_PORTS.router));
  const envoyYaml = fs.readFileSync(path.join(root, 'envoy', 'envoy.yaml'), 'utf8');
  assert.match(envoyYaml, new RegExp(`address: xds-server, port_value: ${DEFAULT_PORTS.xdsGrpc}`), 'Envoy dials xds-server on the ADS port');
  assert.match(envoyYaml, new RegExp(`port_value: ${DEFAULT_PORTS.statsd}\\s+protocol: UDP`), 'statsd sink on the listener port');
  assert.match(envoyYaml, /address: 127\.0\.0\.1, port_value: 9901/, 'admin bound to localhost');
  assert.ok(svc('envoy').volumes?.some((v) => v.startsWith('./envoy/envoy.yaml:')), 'Envoy mounts the repo bootstrap');
  assert.ok(svc('orchestrator').volumes?.some((v) => v.startsWith('/var/run/docker.sock:')));
  assert.ok(fs.existsSync(path.join(root, 'gateway-openresty', 'Dockerfile')), 'gateway image recipe exists');
});
