/** The pure decisions of applying definitions and rolling out versions, as tables. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FunctionDefinition, definitionWithDefaults } from '@faas/contracts';
import { planApply } from '../src/apply-plan';
import type { InstanceState } from '../src/instance-set';
import { planRollout, planSwitch } from '../src/rollout-plan';

const d = (name: string, over: Partial<FunctionDefinition> = {}): FunctionDefinition => ({ ...definitionWithDefaults(name, `/fns/${name}`), ...over });
const summary = (from: FunctionDefinition[], to: FunctionDefinition[]) =>
  planApply(from, to).map((c) => (c.kind === 'remove' ? `remove ${c.name}` : c.kind === 'add' ? `add ${c.def.name}` : `${c.kind} ${c.to.name}: ${c.reasons.join(', ')}`));

describe('planApply', () => {
  const a = d('a');
  const b = d('b');
  const table: [string, FunctionDefinition[], FunctionDefinition[], string[]][] = [
    ['nothing changed', [a, b], [d('a'), d('b')], []],
    ['added and removed, removals first', [a], [d('b')], ['remove a', 'add b']],
    ['a new version', [a], [d('a', { version: '2' })], ['rollout a: version 1 -> 2']],
    ['env under the same version', [a], [d('a', { env: { X: '1' } })], ['rollout a: container settings']],
    ['timeout and concurrency (route settings)', [a], [d('a', { timeoutMs: 1234 })], ['rollout a: container settings']],
    ['another code folder', [a], [d('a', { codeDir: '/elsewhere' })], ['rollout a: code']],
    ['pids and secrets', [a], [d('a', { pidsLimit: 7, secrets: { k: '/s/k' } })], ['rollout a: container settings, secrets']],
    ['scaling only: in place', [a], [d('a', { scaling: { ...a.scaling, maxInstances: 9 } })], ['update a: scaling']],
    ['warm tier only: in place', [a], [d('a', { pausedTtlMs: 5 })], ['update a: warm tier']],
    ['code edited under the same declared version (content hash only)', [a], [d('a', { contentHash: 'other' })], ['rollout a: content (code or secret files)']],
    ['scaling and content: in place, apply compares the image', [a], [d('a', { contentHash: 'other', scaling: { ...a.scaling, maxInstances: 9 } })], ['update a: scaling']],
    ['version and scaling: a rollout carries both', [a], [d('a', { version: '3', scaling: { ...a.scaling, minInstances: 1 } })], ['rollout a: version 1 -> 3']],
  ];
  for (const [name, from, to, want] of table) it(name, () => assert.deepEqual(summary(from, to), want));
});

const inst = (spec: string) =>
  spec.split(' ').filter(Boolean).map((s) => {
    const [id, state] = s.split('=') as [string, InstanceState];
    return { id, state };
  });

describe('planRollout', () => {
  const table: [string, string, number, ReturnType<typeof planRollout>][] = [
    ['cold: swap the definition', '', 5, { kind: 'switch_definition' }],
    ['only draining instances: cold too', 'a=draining', 5, { kind: 'switch_definition' }],
    ['a start in progress: wait for it', 'a=ready b=starting', 5, { kind: 'wait', reason: '1 instance(s) starting' }],
    ['as many new as old ready', 'a=ready b=ready', 5, { kind: 'replace', start: 2, overMax: 0 }],
    ['at max_instances: over it by the new ones while both run', 'a=ready b=ready c=ready', 3, { kind: 'replace', start: 3, overMax: 3 }],
    ['never more than the new max', 'a=ready b=ready c=ready', 2, { kind: 'replace', start: 2, overMax: 3 }],
    ['draining ones count against max', 'a=ready b=draining', 2, { kind: 'replace', start: 1, overMax: 1 }],
  ];
  for (const [name, spec, max, want] of table) it(name, () => assert.deepEqual(planRollout(inst(spec), max), want));
});

describe('planSwitch', () => {
  const table: [string, string, string[], ReturnType<typeof planSwitch>][] = [
    ['new HEALTHY, every old ready DRAINING', 'a=ready b=ready n1=starting n2=starting', ['n1', 'n2'], { kind: 'switch', promote: ['n1', 'n2'], drain: ['a', 'b'] }],
    ['already draining ones are left to their drain', 'a=ready b=draining n1=starting', ['n1'], { kind: 'switch', promote: ['n1'], drain: ['a'] }],
    ['a standby that left the set is not promoted', 'a=ready n2=starting', ['n1', 'n2'], { kind: 'switch', promote: ['n2'], drain: ['a'] }],
    ['no new instance: abort, the old keep serving', 'a=ready', ['n1'], { kind: 'abort', reason: 'no instance of the new version is ready' }],
  ];
  for (const [name, spec, standby, want] of table) it(name, () => assert.deepEqual(planSwitch(inst(spec), new Set(standby)), want));
});
