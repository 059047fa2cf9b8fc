/**
 * The hand-framed bytes (SotW responses, spliced route configurations) must equal what
 * the proto codec produces, so shared pre-encoded data changes nothing on the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XDS_NAMES } from '@faas/contracts';
import { encodeMessage, decodeMessage, TYPE_URLS } from '../src/proto';
import { encodeSotwResponse } from '../src/response-bytes';
import { RouteConfigCache, buildSnapshot, functionRouteBytes } from '../src/snapshot';
import { allClusters, allEndpoints, allRoutes, contentBlock, someRoutes } from '../src/stream-content';
import { buildRouteConfiguration } from '../src/resources';
import { spec } from './test-server';

const RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
const ROUTE_CONFIG = 'envoy.config.route.v3.RouteConfiguration';

function snapshot() {
  return buildSnapshot(
    [spec('alpha', [['127.0.0.1', 9001], ['10.0.0.2', 9002, 'DRAINING']]), spec('beta', [['::1', 9003]], { timeoutMs: 1234 }), spec('gamma', [])],
    { epoch: 'enc', routerAddress: '0.0.0.0', routerPort: 10000 },
  );
}

test('a hand-framed SotW response equals the codec encoding of the same response', () => {
  const snap = snapshot();
  for (const [type, content] of [['cluster', allClusters(snap)], ['endpoint', allEndpoints(snap)]] as const) {
    const header = { version_info: 'v-1', type_url: TYPE_URLS[type], nonce: '7', controlPlaneIdentifier: 'faas-xds-server/enc' };
    const framed = encodeSotwResponse(header, contentBlock(content));
    const viaCodec = encodeMessage(RESPONSE, {
      version_info: 'v-1', type_url: TYPE_URLS[type], nonce: '7',
      resources: [...content.entries.values()].map((e) => e.any),
      control_plane: { identifier: 'faas-xds-server/enc' },
    });
    assert.ok(framed.equals(viaCodec), `${type}: bytes differ`);
    const decoded = decodeMessage<{ resources: { value: Buffer }[] }>(RESPONSE, framed);
    assert.equal(decoded.resources.length, 3);
  }
  // Empty content: no resources field at all.
  const empty = encodeSotwResponse({ version_info: 'v', type_url: TYPE_URLS.route, nonce: '1', controlPlaneIdentifier: 'x' }, Buffer.alloc(0));
  assert.ok(empty.equals(encodeMessage(RESPONSE, { version_info: 'v', type_url: TYPE_URLS.route, nonce: '1', control_plane: { identifier: 'x' } })));
});

test('a spliced RouteConfiguration equals the codec encoding of the whole config', () => {
  const snap = snapshot();
  const cache = new RouteConfigCache();
  for (const grpc of [false, true]) {
    const { content } = allRoutes(snap, cache, grpc);
    const entry = content.entries.get(XDS_NAMES.routeConfig)!;
    const fns = [...snap.functions.keys()].sort().map((n) => snap.functions.get(n)!);
    const whole = encodeMessage(ROUTE_CONFIG, buildRouteConfiguration(fns.flatMap((f) => f.routes)));
    assert.ok(entry.any.value.equals(whole));
    assert.ok(fns.every((f) => functionRouteBytes(f).length > 0));
  }
  // A partial release and the gRPC placeholder (no function released) go the same way.
  const some = someRoutes(snap, new Set(['beta']), cache, false).content.entries.get(XDS_NAMES.routeConfig)!;
  assert.ok(some.any.value.equals(encodeMessage(ROUTE_CONFIG, buildRouteConfiguration(snap.functions.get('beta')!.routes))));
  const none = someRoutes(snap, new Set(), cache, true).content.entries.get(XDS_NAMES.routeConfig)!;
  assert.match(JSON.stringify(decodeMessage(ROUTE_CONFIG, none.any.value)), /no-function/);
});

test('per-snapshot shared content is computed once and reused', () => {
  const snap = snapshot();
  assert.equal(allClusters(snap), allClusters(snap));
  assert.equal(contentBlock(allClusters(snap)), contentBlock(allClusters(snap)));
  const cache = new RouteConfigCache();
  assert.equal(allRoutes(snap, cache, false).content, allRoutes(snap, cache, false).content);
  // An unchanged function keeps its entry (and encoded routes) in the next snapshot.
  const next = buildSnapshot([...snap.functions.values()].map((e) => e.spec), { epoch: 'enc', routerAddress: '0.0.0.0', routerPort: 10000 }, snap);
  assert.equal(next.functions.get('alpha'), snap.functions.get('alpha'));
  assert.equal(allClusters(next).key, allClusters(snap).key);
});
