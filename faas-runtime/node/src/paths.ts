/**
 * Constants the runtime shares with the platform. Duplicated from @faas/contracts on purpose:
 * the runtime is copied into images with no node_modules. test/paths.test.ts asserts they are equal.
 */
export const RUNTIME_PORT = 8080;

export const RUNTIME_PATHS = {
  ready: '/_faas/ready',
  stats: '/_faas/stats',
} as const;

export const REQUEST_ID_HEADER = 'x-request-id';
