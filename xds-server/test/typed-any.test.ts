/**
 * typedAny ties the Any's type URL to the message type. The @ts-expect-error lines are the
 * real test: if a mismatch ever compiles again, the build of this file fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TYPE_URLS, typedAny } from '../src/index';
import type { HttpConnectionManager } from '../src/generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager';
import type { Router } from '../src/generated/envoy/extensions/filters/http/router/v3/Router';
import type { Cluster } from '../src/generated/envoy/config/cluster/v3/Cluster';

test('typedAny picks the URL of the kind and rejects a message of another type', () => {
  const hcm: HttpConnectionManager = { stat_prefix: 'x' };
  const router: Router = { suppress_envoy_headers: true };
  const cluster: Cluster = { name: 'c' };

  assert.equal(typedAny('hcm', hcm)['@type'], TYPE_URLS.hcm);
  assert.equal(typedAny('router', router)['@type'], TYPE_URLS.router);
  assert.equal(typedAny('leastRequest', { choice_count: { value: 2 } })['@type'], TYPE_URLS.leastRequest);

  // @ts-expect-error an HttpConnectionManager is not a Router
  typedAny('router', hcm);
  // @ts-expect-error a Cluster is not an HttpConnectionManager
  typedAny('hcm', cluster);
  // @ts-expect-error a field of another message in a literal
  typedAny('roundRobin', { choice_count: { value: 2 } });
  // @ts-expect-error a wrongly typed field
  typedAny('hcm', { stat_prefix: 1 });
  const mixed = { suppress_envoy_headers: true, stat_prefix: 'x' };
  // @ts-expect-error a variable with a field the message type lacks
  typedAny('router', mixed);
  // @ts-expect-error not a kind of TYPE_URLS
  typedAny('type.googleapis.com/envoy.extensions.filters.http.router.v3.Router', router);
});
