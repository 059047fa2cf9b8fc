/**
 * STAND-IN (branch defs-watch) for OrchestratorHandle.apply/functionStatus until the `rollout`
 * implementation lands; the lead keeps rollout's. Adds and removes functions for real; a changed
 * function is drained and re-created, which is NOT zero-downtime (rollout's job).
 */
import type { FunctionDefinition, FunctionStatus, Logger } from '@faas/contracts';
import { diffDefinitions } from './definition-diff';
import type { FunctionController } from './function-controller';

export interface StandInContext {
  controllers: Map<string, FunctionController>;
  create: (def: FunctionDefinition) => FunctionController;
  removeRoute: (fn: string) => Promise<unknown>;
  removeState: (fn: string) => Promise<void>;
  log: Logger;
  now: () => number;
  /** When each function's current controller was made (status `since`). */
  since: Map<string, number>;
}

async function remove(ctx: StandInContext, fn: string): Promise<void> {
  const c = ctx.controllers.get(fn);
  if (!c) return;
  // Gateways hold, routers drain, containers stop; then gateways forget it (404), then routers.
  await c.close();
  ctx.controllers.delete(fn);
  ctx.since.delete(fn);
  await ctx.removeState(fn);
  await ctx.removeRoute(fn);
}

async function add(ctx: StandInContext, def: FunctionDefinition): Promise<void> {
  const c = ctx.create(def);
  ctx.controllers.set(def.name, c);
  ctx.since.set(def.name, ctx.now());
  await c.register();
}

export async function applyStandIn(ctx: StandInContext, defs: FunctionDefinition[]): Promise<void> {
  const diff = diffDefinitions([...ctx.controllers.values()].map((c) => c.def), defs);
  const each = (fn: string, what: string, p: () => Promise<void>) => p().then(
    () => ctx.log.info('function_applied', { fn, what }),
    (err: unknown) => ctx.log.error('function_apply_failed', { fn, what, error: err }),
  );
  await Promise.all([
    ...diff.removed.map((fn) => each(fn, 'removed', () => remove(ctx, fn))),
    ...diff.added.map((d) => each(d.name, 'added', () => add(ctx, d))),
    ...diff.changed.map(({ to }) => each(to.name, 'changed', async () => {
      await remove(ctx, to.name);
      await add(ctx, to);
    })),
  ]);
}

export function standInStatus(ctx: Pick<StandInContext, 'controllers' | 'since'>): FunctionStatus[] {
  return [...ctx.controllers.values()].map((c) => {
    const { starting, ready, draining } = c.set.census();
    return {
      name: c.def.name,
      activeVersion: c.def.version,
      versions: [{ version: c.def.version, state: 'active' as const, instances: { starting, ready, draining }, since: ctx.since.get(c.def.name) ?? 0 }],
    };
  }).sort((a, b) => (a.name < b.name ? -1 : 1));
}
