/** The runtime conformance suite (faas-runtime/CONTRACT.md): call it from a test file per runtime. */
import { type RuntimeUnderTest } from './harness';
import { callsSuite } from './suite-calls';
import { httpSuite } from './suite-http';
import { lifecycleSuite } from './suite-lifecycle';

export { type RuntimeUnderTest, type RunningRuntime, type Reply, FIXTURES_ROOT, spawnRuntime, request, waitReady, waitFor, rawExchange, finalResponse } from './harness';
export { assertErrorJson, runtimePool } from './checks';

export function conformanceSuite(rt: RuntimeUnderTest): void {
  httpSuite(rt);
  lifecycleSuite(rt);
  callsSuite(rt);
}
