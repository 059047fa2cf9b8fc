/** Issue 9: problems name file, line, function and field; code outside the tree is refused; content hashes. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DefinitionError, type DefinitionIssue, loadDefinitionFile, parseDefinitions } from '../src/index';

function issues(fn: () => unknown): DefinitionIssue[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DefinitionError, String(err));
    return err.issues;
  }
  assert.fail('expected a DefinitionError');
}

const head = 'functions:\n  ok:\n    runtime: node\n    code: ok\n  f:\n    runtime: node\n    code: f\n';

describe('definition issues carry the line', () => {
  // [text, expected issue (subset)]
  const table: [string, Partial<DefinitionIssue>][] = [
    [`${head}    concurrency: 0\n`, { line: 8, function: 'f', field: 'concurrency' }],
    [`${head}    colour: red\n`, { line: 8, function: 'f', message: 'unknown field(s): colour' }],
    [`${head}    memory_mb: 64\n    colour: red\n`, { line: 9, function: 'f' }],
    [`${head}    env:\n      A: 1\n      B: [1]\n`, { line: 10, function: 'f', field: 'env.B' }],
    [`${head}    env:\n      FAAS_X: y\n`, { line: 9, function: 'f', field: 'env.FAAS_X' }],
    [`${head}    version: 1.10\n`, { line: 8, function: 'f', field: 'version' }],
    [`${head}    min_instances: 3\n    max_instances: 2\n`, { line: 8, function: 'f', field: 'min_instances' }],
    // Missing field: the function's own line.
    ['functions:\n  a:\n    code: a\n', { line: 2, function: 'a', field: 'runtime', message: 'is required' }],
    ['functions:\n  ok:\n    runtime: node\n    code: ok\n  Bad:\n    runtime: node\n', { line: 5, function: 'Bad' }],
    ['functions: {}\n', { line: 1, field: 'functions' }],
    ['functions:\n  a: [\n', { line: 3 }],
    ['functions:\n  a:\n    runtime: node\n    code: a\n  a:\n    runtime: node\n', { line: 5 }],
    ['other: 1\nfunctions:\n  a:\n    runtime: node\n    code: a\n', { line: 1 }],
  ];
  for (const [text, want] of table) {
    it(`${JSON.stringify(text.slice(head.length > text.length ? 0 : 0, 60))} -> line ${want.line}`, () => {
      const got = issues(() => parseDefinitions(text, 'defs.yml'));
      assert.ok(got.some((i) => Object.entries(want).every(([k, v]) => i[k as keyof DefinitionIssue] === v)), JSON.stringify(got));
    });
  }
  it('formats as file:line', () => {
    assert.throws(() => parseDefinitions(`${head}    concurrency: 0\n`, 'defs.yml'), /defs\.yml:8: function "f": field "concurrency"/);
  });
});

describe('loadDefinitionFile against the disk', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'defs-lines-'));
  const fn = (dir: string, rel: string, body = 'exports.handler = async () => 1;\n') => {
    fs.mkdirSync(path.join(dir, rel), { recursive: true });
    fs.writeFileSync(path.join(dir, rel, 'index.js'), body);
  };
  const withDir = (body: (dir: string, outside: string) => void) => {
    const dir = tmp();
    const outside = tmp();
    try {
      body(dir, outside);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  };

  // [name, how to lay out the code folder ("inside"/"outside"), code value, refused?]
  const table: [string, (dir: string, outside: string) => string, boolean][] = [
    ['a folder below the file', (dir) => (fn(dir, 'fns/a'), 'fns/a'), false],
    ['the file\'s own folder', (dir) => (fn(dir, '.'), '.'), false],
    ['an absolute path inside the tree', (dir) => (fn(dir, 'a'), path.join(dir, 'a')), false],
    ['a sibling folder via ..', (dir, outside) => (fn(outside, 'a'), path.relative(dir, path.join(outside, 'a'))), true],
    ['an absolute path elsewhere', (_dir, outside) => (fn(outside, 'a'), path.join(outside, 'a')), true],
    ['a symlink inside pointing out', (dir, outside) => {
      fn(outside, 'a');
      fs.symlinkSync(path.join(outside, 'a'), path.join(dir, 'link'));
      return 'link';
    }, true],
    ['a symlink inside pointing inside', (dir) => {
      fn(dir, 'real');
      fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
      return 'link';
    }, false],
  ];
  for (const [name, layout, refused] of table) {
    it(`code in ${name}: ${refused ? 'refused' : 'accepted'}`, () => withDir((dir, outside) => {
      const code = layout(dir, outside);
      const file = path.join(dir, 'defs.yml');
      fs.writeFileSync(file, `functions:\n  a:\n    runtime: node\n    code: ${JSON.stringify(code)}\n`);
      if (!refused) {
        assert.equal(loadDefinitionFile(file)[0]?.name, 'a');
        return;
      }
      const [i] = issues(() => loadDefinitionFile(file));
      assert.equal(i?.function, 'a');
      assert.equal(i?.field, 'code');
      assert.equal(i?.line, 4);
      assert.match(i?.message ?? '', /outside .*directory tree/);
    }));
  }

  it('names the line of a missing code folder; an unreadable secret is no definition error (the orchestrator names it, only that function waits)', () => withDir((dir) => {
    fn(dir, 'a');
    const file = path.join(dir, 'defs.yml');
    fs.writeFileSync(file, 'functions:\n  a:\n    runtime: node\n    code: a\n    secrets:\n      db.key: nope.txt\n  b:\n    runtime: node\n    code: b\n');
    const got = issues(() => loadDefinitionFile(file));
    assert.deepEqual(got.map((i) => [i.function, i.field, i.line]), [['b', 'code', 9]]);
  }));

  it('content hash: changes with code, settings and a rewritten secret file; the version follows it when undeclared', () => withDir((dir) => {
    fn(dir, 'a');
    fn(dir, 'b');
    fs.writeFileSync(path.join(dir, 'token.txt'), 's3cret');
    const file = path.join(dir, 'defs.yml');
    const write = (extra = '') => fs.writeFileSync(file, `functions:\n  a:\n    runtime: node\n    code: a\n    secrets: { token: token.txt }\n${extra}  b:\n    runtime: node\n    version: "7"\n    code: b\n`);
    const load = () => Object.fromEntries(loadDefinitionFile(file).map((d) => [d.name, d]));
    write();
    const first = load();
    assert.equal(first.a?.versionDeclared, false);
    assert.equal(first.a?.version, first.a?.contentHash);
    assert.equal(first.b?.version, '7');
    assert.equal(first.b?.versionDeclared, true);
    assert.deepEqual(load(), first, 'same inputs, same hashes');
    const hashes: string[] = [first.a!.contentHash];
    const expectNewA = (what: string) => {
      const now = load();
      assert.ok(!hashes.includes(now.a!.contentHash), what);
      assert.equal(now.a!.version, now.a!.contentHash);
      assert.equal(now.b!.contentHash, first.b!.contentHash, `${what}: b unchanged`);
      hashes.push(now.a!.contentHash);
    };
    fs.writeFileSync(path.join(dir, 'a', 'index.js'), 'exports.handler = async () => 2;\n');
    expectNewA('code edit');
    fs.writeFileSync(path.join(dir, 'a', 'extra.js'), '');
    expectNewA('new file');
    fs.writeFileSync(path.join(dir, 'token.txt'), 'rotated');
    expectNewA('secret rotated');
    write('    memory_mb: 256\n');
    expectNewA('setting changed');
    fs.mkdirSync(path.join(dir, 'a', 'node_modules'));
    fs.writeFileSync(path.join(dir, 'a', 'node_modules', 'x.js'), '');
    assert.equal(load().a!.contentHash, hashes.at(-1), 'node_modules is not part of the image, nor of the hash');
    // A declared version keeps its name, but a code change still changes the hash.
    fs.writeFileSync(path.join(dir, 'b', 'index.js'), 'exports.handler = async () => 3;\n');
    const after = load();
    assert.equal(after.b!.version, '7');
    assert.notEqual(after.b!.contentHash, first.b!.contentHash);
  }));
});
