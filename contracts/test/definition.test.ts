import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DefinitionError, loadDefinitionFile, parseDefinitions, parseDuration, parseSize } from '../src/index';

function issuesOf(text: string): string[] {
  try {
    parseDefinitions(text, 'defs.yml');
  } catch (err) {
    assert.ok(err instanceof DefinitionError);
    return err.message.split('\n').slice(1).map((l) => l.trim());
  }
  assert.fail('expected a DefinitionError');
}

describe('parseDefinitions', () => {
  it('applies defaults and resolves code relative to the file', () => {
    const [d] = parseDefinitions('functions:\n  hello:\n    runtime: node\n    version: "1"\n    code: fn/hello\n', '/srv/defs.yml');
    assert.match(d?.contentHash ?? '', /^[0-9a-f]{16}$/);
    assert.deepEqual(d, {
      name: 'hello', runtime: 'node', version: '1', versionDeclared: true, contentHash: d?.contentHash, codeDir: '/srv/fn/hello', handler: 'index.handler', concurrency: 8,
      handlerStyle: 'http', maxBodyBytes: 6 * 1024 * 1024,
      timeoutMs: 30_000, memoryMb: 128, cpus: 1, pidsLimit: 256, env: {}, secrets: {}, warm: 'paused', pausedTtlMs: 600_000,
      scaling: {
        minInstances: 0, maxInstances: 5, targetConcurrency: 8, targetUtilization: 0.7, idleTimeoutMs: 30_000, scaleDownDelayMs: 0,
        stableWindowMs: 60_000, panicWindowMs: 6_000, panicThreshold: 2, maxScaleUpRate: 10, maxScaleDownRate: 2,
      },
    });
  });
  it('parses durations and env', () => {
    const [d] = parseDefinitions('functions:\n  a:\n    runtime: node\n    version: "2"\n    code: a\n    timeout: 500ms\n    idle_timeout: 2m\n    env: { N: 3, B: true }\n', 'x.yml');
    assert.equal(d?.timeoutMs, 500);
    assert.equal(d?.scaling.idleTimeoutMs, 120_000);
    assert.deepEqual(d?.env, { N: '3', B: 'true' });
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('10'), undefined);
  });
  it('refuses handlers outside the code dir, tiny cpus, reserved env names and unquoted decimals', () => {
    const base = 'functions:\n  f:\n    runtime: node\n    version: "1"\n    code: f\n';
    const one = (extra: string) => issuesOf(base + extra).join('\n');
    assert.match(one('    handler: ../x.handler\n'), /field "handler": must be a module inside the code directory/);
    assert.match(one('    handler: /etc/x.handler\n'), /field "handler": must be a module inside the code directory/);
    assert.match(one('    cpus: 0.001\n'), /field "cpus": must be at least 0.01/);
    assert.match(one('    env: { FAAS_HANDLER: x }\n'), /field "env.FAAS_HANDLER".*reserved/);
    assert.match(one('    env: { NODE_OPTIONS: x }\n'), /reserved/);
    assert.match(one('    env: { RATIO: 1.10 }\n'), /field "env.RATIO".*quoted/);
    assert.match(one('    env: { BIG: 12345678901234567890 }\n'), /field "env.BIG".*quoted/);
    assert.match(one('    env: { 1BAD: x }\n'), /field "env.1BAD".*valid environment variable names/);
    assert.match(one('    env: { X: [1] }\n'), /field "env.X".*strings, integers or booleans/);
    assert.match(one('    handler: lib/../../x.handler\n'), /field "handler": must be a module inside the code directory/);
    assert.match(one('    cpus: 0\n'), /field "cpus": must be at least 0.01/);
    // Still accepted: strings (also quoted decimals), integers, booleans, the minimum cpus, nested handlers.
    const [ok] = parseDefinitions(`${base}    cpus: 0.01\n    handler: lib/main.handler\n    env: { S: "1.10", I: 42, B: false, faas_lower: x }\n`, 'defs.yml');
    assert.deepEqual(ok?.env, { S: '1.10', I: '42', B: 'false', faas_lower: 'x' });
    assert.equal(ok?.handler, 'lib/main.handler');
    assert.equal(ok?.cpus, 0.01);
  });
  it('names the file, function and field of each problem', () => {
    const issues = issuesOf('functions:\n  hello:\n    runtime: node\n    version: 1.10\n    code: x\n    concurrency: 0\n    colour: red\n');
    assert.ok(issues.some((i) => i.startsWith('- defs.yml:4: function "hello": field "version": must be a quoted string')), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('- defs.yml:6: function "hello": field "concurrency": must be at least 1')), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('- defs.yml:7: function "hello": unknown field(s): colour')), issues.join('\n'));
  });
  it('rejects bad names, reserved names, unknown runtimes, missing fields', () => {
    assert.match(issuesOf('functions:\n  Bad.Name:\n    runtime: node\n')[0] ?? '', /function "Bad.Name": invalid function name/);
    assert.match(issuesOf('functions:\n  healthz:\n    runtime: node\n    version: "1"\n    code: x\n')[0] ?? '', /reserved/);
    assert.match(issuesOf('functions:\n  a:\n    runtime: cobol\n    version: "1"\n    code: x\n')[0] ?? '', /field "runtime": must be one of: node, python/);
  });
  it('rejects broken YAML, a missing functions map and an empty one', () => {
    assert.match(issuesOf('functions: [\n')[0] ?? '', /defs.yml:2: YAML: Flow sequence in block collection must be sufficiently indented and end with a \]$/);
    assert.match(issuesOf('other: 1\n').join('\n'), /field "functions": is required/);
    assert.match(issuesOf('functions: {}\n')[0] ?? '', /defines no function/);
  });
});

describe('parseDefinitions: scaling fields', () => {
  const base = 'functions:\n  f:\n    runtime: node\n    version: "1"\n    code: f\n';
  const scaling = (extra: string) => parseDefinitions(base + extra, 'defs.yml')[0]!.scaling;
  const one = (extra: string) => issuesOf(base + extra).join('\n');

  it('reads every field, durations in ms', () => {
    assert.deepEqual(
      scaling('    min_instances: 1\n    max_instances: 9\n    target_concurrency: 4\n    target_utilization: 0.5\n    idle_timeout: 2m\n'
        + '    scale_down_delay: 15s\n    stable_window: 30s\n    panic_window: 3s\n    panic_threshold: 3\n    max_scale_up_rate: 4\n    max_scale_down_rate: 1.5\n'),
      {
        minInstances: 1, maxInstances: 9, targetConcurrency: 4, targetUtilization: 0.5, idleTimeoutMs: 120_000, scaleDownDelayMs: 15_000,
        stableWindowMs: 30_000, panicWindowMs: 3_000, panicThreshold: 3, maxScaleUpRate: 4, maxScaleDownRate: 1.5,
      },
    );
  });
  it('target_concurrency defaults to the function\'s concurrency', () => {
    assert.equal(scaling('    concurrency: 3\n').targetConcurrency, 3);
    assert.equal(scaling('    concurrency: 3\n    target_concurrency: 2\n').targetConcurrency, 2);
  });
  it('accepts the bounds themselves', () => {
    const s = scaling('    min_instances: 100\n    max_instances: 100\n    target_utilization: 1\n    stable_window: 6s\n    panic_window: 6s\n    panic_threshold: 1.1\n    max_scale_up_rate: 1.1\n    max_scale_down_rate: 1000\n');
    assert.deepEqual([s.minInstances, s.maxInstances, s.targetUtilization, s.stableWindowMs, s.panicWindowMs, s.panicThreshold, s.maxScaleUpRate, s.maxScaleDownRate], [100, 100, 1, 6_000, 6_000, 1.1, 1.1, 1000]);
    assert.equal(scaling('    min_instances: 0\n    max_instances: 1\n    scale_down_delay: 0s\n    panic_window: 1s\n').panicWindowMs, 1_000);
  });
  const refused: [string, RegExp][] = [
    ['    min_instances: -1\n', /field "min_instances": must be at least 0/],
    ['    min_instances: 1.5\n', /field "min_instances": must be a whole number/],
    ['    max_instances: 0\n', /field "max_instances": must be at least 1/],
    ['    max_instances: 101\n', /field "max_instances": must be at most 100/],
    ['    min_instances: 6\n', /field "min_instances": must not exceed max_instances \(5\)/],
    ['    min_instances: 3\n    max_instances: 2\n', /field "min_instances": must not exceed max_instances \(2\)/],
    ['    target_concurrency: 0\n', /field "target_concurrency": must be at least 1/],
    ['    target_utilization: 0\n', /field "target_utilization": must be above 0/],
    ['    target_utilization: 1.2\n', /field "target_utilization": must be at most 1/],
    ['    target_utilization: "70%"\n', /field "target_utilization": must be a number/],
    ['    idle_timeout: 100ms\n', /field "idle_timeout": must be between 500ms/],
    ['    scale_down_delay: 2h\n', /field "scale_down_delay": must be a duration/],
    ['    scale_down_delay: 61m\n', /field "scale_down_delay": must be between 0ms and 3600000ms/],
    ['    stable_window: 5s\n', /field "stable_window": must be between 6000ms/],
    ['    panic_window: 500ms\n', /field "panic_window": must be between 1000ms/],
    ['    stable_window: 10s\n    panic_window: 20s\n', /field "panic_window": must not exceed stable_window/],
    ['    panic_window: 61s\n', /field "panic_window": must not exceed stable_window/],
    ['    panic_threshold: 1\n', /field "panic_threshold": must be at least 1.1/],
    ['    max_scale_up_rate: 1\n', /field "max_scale_up_rate": must be at least 1.1/],
    ['    max_scale_down_rate: 1001\n', /field "max_scale_down_rate": must be at most 1000/],
    ['    max_scale_down_rate: 1\n', /field "max_scale_down_rate": must be at least 1.1/],
    ['    scale_up_rate: 2\n', /unknown field\(s\): scale_up_rate/],
    ['    minInstances: 1\n', /unknown field\(s\): minInstances/],
  ];
  for (const [extra, message] of refused) {
    it(`refuses ${extra.trim()}`, () => assert.match(one(extra), message));
  }
  it('documents every field with its default in the header of the repository file', () => {
    const text = fs.readFileSync(path.resolve(__dirname, '../../../global-function-definition.yml'), 'utf8');
    const header = text.slice(0, text.indexOf('\nfunctions:'));
    for (const field of ['min_instances', 'max_instances', 'target_concurrency', 'target_utilization', 'idle_timeout', 'scale_down_delay', 'stable_window', 'panic_window', 'panic_threshold', 'max_scale_up_rate', 'max_scale_down_rate']) {
      assert.match(header, new RegExp(`^#\\s+${field}\\b.*\\[[^\\]]+\\]`, 'm'), `${field} with a [default] in the header`);
    }
  });
});

describe('loadDefinitionFile', () => {
  it('checks the code directory and handler module exist', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'defs-'));
    try {
      fs.mkdirSync(path.join(dir, 'ok'));
      fs.writeFileSync(path.join(dir, 'ok', 'index.js'), 'exports.handler = async () => 1;');
      const file = path.join(dir, 'defs.yml');
      fs.writeFileSync(file, 'functions:\n  ok:\n    runtime: node\n    version: "1"\n    code: ok\n  missing:\n    runtime: node\n    version: "1"\n    code: nope\n');
      assert.throws(() => loadDefinitionFile(file), /function "missing": field "code": directory .* does not exist/);
      fs.writeFileSync(file, 'functions:\n  ok:\n    runtime: node\n    version: "1"\n    code: ok\n    handler: main.run\n');
      assert.throws(() => loadDefinitionFile(file), /field "handler": module "main" not found/);
      assert.throws(() => loadDefinitionFile(path.join(dir, 'absent.yml')), /absent.yml: cannot read/);
      // A Python function's module is a .py file (index.js does not count).
      fs.writeFileSync(file, 'functions:\n  ok:\n    runtime: python\n    version: "1"\n    code: ok\n');
      assert.throws(() => loadDefinitionFile(file), /field "handler": module "index" not found/);
      fs.writeFileSync(path.join(dir, 'ok', 'index.py'), 'def handler(event, context):\n    return 1\n');
      assert.equal(loadDefinitionFile(file)[0]?.runtime, 'python');
      // A Node handler may be TypeScript (compiled at image build); for Python a .ts is no module.
      fs.mkdirSync(path.join(dir, 'ts'));
      fs.writeFileSync(path.join(dir, 'ts', 'index.ts'), 'export const handler = async (): Promise<number> => 1;');
      fs.writeFileSync(file, 'functions:\n  ts:\n    runtime: node\n    version: "1"\n    code: ts\n');
      assert.equal(loadDefinitionFile(file)[0]?.name, 'ts');
      fs.writeFileSync(file, 'functions:\n  ts:\n    runtime: python\n    version: "1"\n    code: ts\n');
      assert.throws(() => loadDefinitionFile(file), /field "handler": module "index" not found/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('loads the repository definition file', () => {
    const defs = loadDefinitionFile(path.resolve(__dirname, '../../../global-function-definition.yml'));
    // Examples are added over time: these must be there (and sorted), others may join.
    const names = defs.map((d) => d.name);
    for (const n of ['add', 'echo', 'fanclub', 'getavatar', 'hello', 'lambda-hello', 'payroll', 'py-hello', 'secret', 'sleep']) assert.ok(names.includes(n), n);
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual(defs.find((d) => d.name === 'secret')?.secrets, { 'api-token': path.resolve(__dirname, '../../../functions/secret/demo-token.secret') });
  });
});

describe('parseDefinitions: runtime, handler style and body limit', () => {
  const base = 'functions:\n  f:\n    runtime: python\n    version: "1"\n    code: f\n';
  it('reads runtime python, handler_style and max_body in its units', () => {
    const [d] = parseDefinitions(`${base}    handler_style: lambda\n    max_body: 512KiB\n`, 'x.yml');
    assert.deepEqual([d?.runtime, d?.handlerStyle, d?.maxBodyBytes], ['python', 'lambda', 512 * 1024]);
    for (const [text, bytes] of [['6MiB', 6 * 1024 * 1024], ['1MB', 1_000_000], ['2048', 2048], ['0', 0], ['1GiB', 1024 ** 3]] as const) {
      assert.equal(parseDefinitions(`${base}    max_body: ${text}\n`, 'x.yml')[0]?.maxBodyBytes, bytes, text);
    }
    assert.equal(parseSize('6 MiB'), undefined);
  });
  const refused: [string, RegExp][] = [
    ['    handler_style: grpc\n', /function "f": field "handler_style": must be one of: http, lambda/],
    ['    max_body: 6mb\n', /function "f": field "max_body": must be a size such as "6MiB"/],
    ['    max_body: 2GiB\n', /function "f": field "max_body": must be between 0 and 1GiB/],
    ['    max_body: [1]\n', /function "f": field "max_body": must be a size/],
    ['    max_body: 1.5\n', /function "f": field "max_body": must be a size/],
  ];
  for (const [extra, message] of refused) {
    it(`refuses ${extra.trim()}`, () => assert.match(issuesOf(base + extra).join('\n'), message));
  }
  it('documents runtime, handler_style and max_body in the header of the repository file', () => {
    const text = fs.readFileSync(path.resolve(__dirname, '../../../global-function-definition.yml'), 'utf8');
    const header = text.slice(0, text.indexOf('\nfunctions:'));
    assert.match(header, /^#\s+runtime\s+node, python/m);
    for (const field of ['handler_style', 'max_body']) assert.match(header, new RegExp(`^#\\s+${field}\\b.*\\[[^\\]]+\\]`, 'm'), field);
  });
});
