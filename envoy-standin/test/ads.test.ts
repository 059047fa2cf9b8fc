/**
 * ADS behaviour: NACKs (real xds-server with an injected bad endpoint, and a minimal custom
 * ADS server for a resource type the stand-in cannot decode), the request sequence Envoy
 * sends, reconnect after a control-plane restart, and delta ADS against the real server.
 */
import { authorizationHeader } from '@faas/contracts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '@faas/stack';
import { startXdsServer } from '@faas/xds-server';
import { type AckNackEvent, startEnvoyStandin } from '../src/index';
import { type DiscoveryRequest, type DiscoveryResponse, TYPE_URLS, loadEnvoyProtos } from '../src/protos';
import { BOOTSTRAP, TEST_TOKEN, putFunction, quietLogger, request, startUpstream, tempBootstrap, uniqueNodeId, waitFor } from './helpers';

test('real xds-server: an endpoint that is not an IP is NACKed, previous config keeps serving', async (t) => {
  const up = await startUpstream('a');
  t.after(() => up.close());
  let inject = false;
  const routerPort = await freePort();
  const xds = await startXdsServer({
    host: '127.0.0.1', grpcPort: 0, httpPort: 0, routerAddress: '127.0.0.1', routerPort, logger: quietLogger, internalToken: TEST_TOKEN,
    builderHooks: {
      transformClusterLoadAssignment: (fn, cla) => {
        if (!inject || fn !== 'bad') return cla;
        const sa = cla.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint?.address?.socket_address;
        if (sa) sa.address = 'not-an-ip.example';
        return cla;
      },
    },
  });
  t.after(() => xds.close());
  const nodeId = uniqueNodeId();
  const standin = await startEnvoyStandin({ bootstrapPath: BOOTSTRAP, xdsAddress: `127.0.0.1:${xds.grpcPort}`, statsdAddress: `127.0.0.1:${await freePort()}`, bindAddress: '127.0.0.1', nodeId, logger: quietLogger });
  t.after(() => standin.close());
  const events: AckNackEvent[] = [];
  standin.onAckNack((e) => events.push(e));
  await standin.waitForListener();

  const spec = { name: 'bad', timeoutMs: 2000, concurrency: 2, endpoints: [{ id: 'a', address: '127.0.0.1', port: up.port, health: 'HEALTHY' as const }] };
  assert.equal((await putFunction(xds.httpPort, spec)).status, 200);
  assert.equal((await request(routerPort, '/bad/x')).status, 200);

  inject = true;
  const other = await startUpstream('b');
  t.after(() => other.close());
  const r = await putFunction(xds.httpPort, { ...spec, endpoints: [...spec.endpoints, { id: 'b', address: '127.0.0.1', port: other.port, health: 'HEALTHY' }] }, 3000);
  assert.equal(r.status, 502, JSON.stringify(r.body));
  assert.equal(r.body.error, 'nacked');
  assert.equal(r.body.router, nodeId);
  assert.match(String(r.body.detail), /not-an-ip\.example.*not an IP address/);
  const nack = events.find((e) => !e.accepted);
  assert.equal(nack?.kind, 'endpoint');
  // Previous state kept: still routes to a only.
  for (let i = 0; i < 5; i++) assert.equal((await request(routerPort, '/bad/x')).headers['x-upstream'], 'a');
});

/** Minimal ADS server: records requests, lets the test answer. */
async function startMiniAds(): Promise<{
  port: number; requests: DiscoveryRequest[]; respond(resp: DiscoveryResponse): void; streams(): number; close(): Promise<void>;
}> {
  const { ads } = loadEnvoyProtos();
  const server = new grpc.Server();
  const requests: DiscoveryRequest[] = [];
  let current: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse> | undefined;
  let count = 0;
  server.addService(ads.service, {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => {
      current = call;
      count++;
      call.on('data', (req: DiscoveryRequest) => requests.push(req));
      call.on('error', () => undefined);
      call.on('end', () => call.end());
    },
    DeltaAggregatedResources: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    port, requests,
    respond: (resp) => current?.write(resp),
    streams: () => count,
    close: () => new Promise<void>((resolve) => { server.forceShutdown(); resolve(); }),
  };
}

test('minimal ADS server: Envoy-like requests, NACK of an undecodable type, then ACK', async (t) => {
  const mini = await startMiniAds();
  t.after(() => mini.close());
  const standin = await startEnvoyStandin({ bootstrapPath: BOOTSTRAP, xdsAddress: `127.0.0.1:${mini.port}`, statsdAddress: `127.0.0.1:${await freePort()}`, bindAddress: '127.0.0.1', nodeId: 'mini-1', logger: quietLogger });
  t.after(() => standin.close());
  await waitFor('CDS and LDS requests', () => mini.requests.length >= 2);
  const [cds, lds] = mini.requests;
  assert.equal(cds?.type_url, TYPE_URLS.cluster);
  assert.equal(lds?.type_url, TYPE_URLS.listener);
  assert.deepEqual(cds?.resource_names, []);
  assert.deepEqual(lds?.resource_names, []);
  assert.equal(cds?.node?.id, 'mini-1');
  assert.equal(cds?.node?.user_agent_name, 'envoy-standin');
  assert.equal(lds?.node, null, 'node only on the first request');

  // A cluster whose Any holds a type the stand-in does not know: NACK.
  mini.respond({ version_info: 'v1', type_url: TYPE_URLS.cluster, nonce: 'n1', resources: [{ type_url: 'type.googleapis.com/example.Unknown', value: Buffer.from([8, 1]) }] });
  await waitFor('NACK', () => mini.requests.some((r) => r.response_nonce === 'n1'));
  const nack = mini.requests.find((r) => r.response_nonce === 'n1');
  assert.equal(nack?.version_info, '', 'NACK carries the previous (empty) version');
  assert.match(String(nack?.error_detail?.message), /example\.Unknown/);

  // A good EDS cluster: ACK with the new version, then an EDS request for it.
  mini.respond({
    version_info: 'v2', type_url: TYPE_URLS.cluster, nonce: 'n2',
    resources: [{ '@type': TYPE_URLS.cluster, name: 'fn-x', type: 'EDS', eds_cluster_config: { service_name: 'fn-x' }, connect_timeout: { seconds: 1 } }],
  });
  await waitFor('ACK and EDS', () => mini.requests.some((r) => r.type_url === TYPE_URLS.endpoint));
  const ack = mini.requests.find((r) => r.response_nonce === 'n2');
  assert.equal(ack?.version_info, 'v2');
  assert.equal(ack?.error_detail, null);
  const eds = mini.requests.find((r) => r.type_url === TYPE_URLS.endpoint);
  assert.deepEqual(eds?.resource_names, ['fn-x']);
  assert.equal(standin.status().clusters[0]?.name, 'fn-x');
});

for (const protocol of ['sotw', 'delta'] as const) {
test(`${protocol}: reconnects after the control plane restarts; keeps the last config meanwhile`, async (t) => {
  const boot = tempBootstrap((s) => (protocol === 'delta' ? s.replace('api_type: GRPC ', 'api_type: DELTA_GRPC ') : s));
  t.after(() => boot.remove());
  const up = await startUpstream('a');
  t.after(() => up.close());
  const routerPort = await freePort();
  const grpcPort = await freePort();
  const opts = { host: '127.0.0.1', grpcPort, httpPort: 0, routerAddress: '127.0.0.1', routerPort, logger: quietLogger, internalToken: TEST_TOKEN };
  let xds = await startXdsServer(opts);
  t.after(() => xds.close());
  const standin = await startEnvoyStandin({
    bootstrapPath: boot.file, xdsAddress: `127.0.0.1:${grpcPort}`, statsdAddress: `127.0.0.1:${await freePort()}`, bindAddress: '127.0.0.1', nodeId: uniqueNodeId(), logger: quietLogger, backoffBaseMs: 50, backoffMaxMs: 200,
  });
  t.after(() => standin.close());
  await standin.waitForListener();
  const spec = { name: 'keep', timeoutMs: 2000, concurrency: 2, endpoints: [{ id: 'a', address: '127.0.0.1', port: up.port, health: 'HEALTHY' as const }] };
  assert.equal((await putFunction(xds.httpPort, spec)).status, 200);

  await xds.close();
  await waitFor('disconnected', () => !standin.status().connected);
  assert.equal((await request(routerPort, '/keep/x')).status, 200, 'last good config still serves');

  xds = await startXdsServer(opts);
  await waitFor('reconnected', () => standin.status().connected, 10_000);
  const r = await putFunction(xds.httpPort, { ...spec, name: 'again' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await request(routerPort, '/again/x')).status, 200);
});
}

test('delta ADS (DELTA_GRPC) against the real xds-server: add, update, remove', async (t) => {
  const boot = tempBootstrap((s) => s.replace('api_type: GRPC ', 'api_type: DELTA_GRPC '));
  t.after(() => boot.remove());
  const [a, b] = await Promise.all([startUpstream('a'), startUpstream('b')]);
  t.after(() => Promise.all([a.close(), b.close()]));
  const routerPort = await freePort();
  const xds = await startXdsServer({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, routerAddress: '127.0.0.1', routerPort, logger: quietLogger, internalToken: TEST_TOKEN });
  t.after(() => xds.close());
  const standin = await startEnvoyStandin({ bootstrapPath: boot.file, xdsAddress: `127.0.0.1:${xds.grpcPort}`, statsdAddress: `127.0.0.1:${await freePort()}`, bindAddress: '127.0.0.1', nodeId: uniqueNodeId(), logger: quietLogger });
  t.after(() => standin.close());
  assert.equal(standin.bootstrap.protocol, 'delta');
  await standin.waitForListener();
  const ep = (id: string, port: number) => ({ id, address: '127.0.0.1', port, health: 'HEALTHY' as const });
  assert.equal((await putFunction(xds.httpPort, { name: 'd', timeoutMs: 2000, concurrency: 2, endpoints: [ep('a', a.port)] })).status, 200);
  assert.equal((await request(routerPort, '/d/x')).headers['x-upstream'], 'a');
  assert.equal((await putFunction(xds.httpPort, { name: 'd', timeoutMs: 2000, concurrency: 2, endpoints: [ep('b', b.port)] })).status, 200);
  assert.equal((await request(routerPort, '/d/x')).headers['x-upstream'], 'b');
  const del = await request(xds.httpPort, '/v1/functions/d?wait_ms=3000', { method: 'DELETE', headers: authorizationHeader(TEST_TOKEN) });
  assert.equal(del.status, 200, del.body.toString());
  assert.equal((await request(routerPort, '/d/x')).status, 404);
  assert.equal(standin.status().clusters.length, 0);
});
