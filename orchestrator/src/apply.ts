/**
 * Applying a new set of function definitions while serving (apply-plan.ts decides):
 * an added function gets a controller, its image and its registration with routers and
 * gateways; a removed one is retired (retire.ts: drained, then gone from gateways and
 * routers); a changed one rolls out as a new version (rollout.ts). Each change runs on its
 * own; apply() resolves when all have been applied or failed, and never rejects for one.
 */
import type { FunctionDefinition, FunctionStatus, Logger } from '@faas/contracts';
import { planApply } from './apply-plan';
import type { FunctionController } from './function-controller';
import { type RetireTargets, retireFunction } from './retire';
import { FunctionRollouts } from './rollout';

export interface Retiring {
  ctl: FunctionController;
  rollouts: FunctionRollouts;
  done: Promise<void>;
}

export interface FleetEnv extends RetireTargets {
  controllers: Map<string, FunctionController>;
  rollouts: Map<string, FunctionRollouts>;
  /** Functions being removed: still draining, still owned for die events and route repair. */
  retiring: Map<string, Retiring>;
  newController(def: FunctionDefinition): FunctionController;
  image(def: FunctionDefinition): Promise<string>;
  log: Logger;
}

/** Build a function's image and record the outcome in its version list (a failure is logged, never thrown). */
export async function buildFor(env: FleetEnv, ctl: FunctionController, rollouts: FunctionRollouts): Promise<string | undefined> {
  try {
    const image = await env.image(ctl.def);
    rollouts.built({ image });
    return image;
  } catch (err) {
    // One broken function must not take the others down; the next wake retries the build.
    rollouts.built({ error: err });
    env.log.error('image_build_failed', { fn: ctl.def.name, error: err });
    return undefined;
  }
}

export function addController(env: FleetEnv, def: FunctionDefinition): { ctl: FunctionController; rollouts: FunctionRollouts } {
  const ctl = env.newController(def);
  const rollouts = new FunctionRollouts(ctl);
  env.controllers.set(def.name, ctl);
  env.rollouts.set(def.name, rollouts);
  return { ctl, rollouts };
}

async function addFunction(env: FleetEnv, def: FunctionDefinition): Promise<void> {
  // Removed and added again: the old one's final route/state removal must not hit the new one.
  await env.retiring.get(def.name)?.done;
  const { ctl, rollouts } = addController(env, def);
  rollouts.versions.set(def.version, 'building');
  await buildFor(env, ctl, rollouts);
  await ctl.register();
  env.log.info('function_added', { fn: def.name, version: def.version });
}

function removeFunction(env: FleetEnv, name: string): Promise<void> {
  const ctl = env.controllers.get(name);
  const rollouts = env.rollouts.get(name);
  if (!ctl || !rollouts) return Promise.resolve();
  env.controllers.delete(name);
  env.rollouts.delete(name);
  const done = retireFunction(ctl, rollouts, env)
    .catch((err: unknown) => env.log.error('function_remove_failed', { fn: name, error: err }))
    .finally(() => env.retiring.delete(name));
  env.retiring.set(name, { ctl, rollouts, done });
  return done;
}

/**
 * `requested`: the last definition asked for per function (what a new set is compared with;
 * updated here). Planning and dispatch are synchronous, so a newer apply supersedes at once.
 */
export function applyDefinitions(env: FleetEnv, requested: Map<string, FunctionDefinition>, defs: readonly FunctionDefinition[]): Promise<void> {
  const changes = planApply([...requested.values()], defs);
  const work: Promise<void>[] = [];
  const touched = new Set<string>();
  for (const c of changes) {
    if (c.kind === 'remove') {
      requested.delete(c.name);
      work.push(removeFunction(env, c.name));
      touched.add(c.name);
      continue;
    }
    const def = c.kind === 'add' ? c.def : c.to;
    requested.set(def.name, def);
    touched.add(def.name);
    env.log.info('definition_change', { fn: def.name, change: c.kind, version: def.version, ...(c.kind === 'add' ? {} : { from: c.from.version, reasons: c.reasons }) });
    if (c.kind === 'add') work.push(addFunction(env, def).catch((err: unknown) => env.log.error('function_add_failed', { fn: def.name, error: err })));
    else work.push(env.rollouts.get(def.name)?.request(def) ?? Promise.resolve());
  }
  // Unchanged settings: the code under the same version may still have changed (rollout.ts compares images).
  for (const def of defs) {
    if (touched.has(def.name)) continue;
    requested.set(def.name, def);
    const r = env.rollouts.get(def.name);
    if (r && r.idle()) work.push(r.request(def));
  }
  return Promise.all(work).then(() => undefined);
}

/** Every function's versions, those being removed shown draining. */
export function fleetStatus(env: FleetEnv): FunctionStatus[] {
  const out = [...env.rollouts.values()].map((r) => r.status());
  for (const { rollouts } of env.retiring.values()) {
    const s = rollouts.status();
    out.push({ ...s, activeVersion: null, versions: s.versions.map((v) => ({ ...v, state: 'draining' as const })) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
