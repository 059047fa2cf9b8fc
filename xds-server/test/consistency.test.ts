/** Snapshot consistency (as go-control-plane's Snapshot.Consistent()), pure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, type Snapshot } from '../src/snapshot';
import { InconsistentSnapshotError, assertConsistent, snapshotProblems } from '../src/snapshot-consistency';
import { spec } from './test-server';

const opts = { epoch: 'e', routerAddress: '127.0.0.1', routerPort: 10000 };

test('a built snapshot is consistent', () => {
  assert.deepEqual(snapshotProblems(buildSnapshot([spec('alpha'), spec('beta', [])], opts)), []);
});

test('inconsistent snapshots are rejected, each problem named', () => {
  const good = buildSnapshot([spec('alpha')], opts);
  const alpha = good.functions.get('alpha')!;
  const cases: [string, Snapshot, RegExp][] = [
    ['route to a missing cluster', { ...good, functions: new Map([['alpha', { ...alpha, routes: [{ name: 'r', match: { prefix: '/' }, route: { cluster: 'fn-ghost' } }] }]]) }, /route r of alpha points at cluster fn-ghost/],
    ['EDS cluster without its CLA', { ...good, functions: new Map([['alpha', { ...alpha, cla: { ...alpha.cla, name: 'fn-other' } }]]) }, /EDS cluster fn-alpha has no ClusterLoadAssignment/],
    ['listener naming another route config', { ...good, listeners: { ...good.listeners, grpc: { ...good.listeners.grpc, resource: { name: 'fn-gw', api_listener: { api_listener: { rds: { route_config_name: 'other' } } } } } } }, /listener fn-gw asks for route configuration other/],
  ];
  for (const [what, snap, problem] of cases) {
    assert.throws(() => assertConsistent(snap), (e: unknown) => e instanceof InconsistentSnapshotError && problem.test(e.message), what);
  }
});
