/**
 * ensureFunctionImage / removeStaleImages against the real dockerd, with the local base image
 * faas-node-base:local (made by scripts/make-base-image.sh if missing). No registry is used.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tar from 'tar-stream';
import { type FunctionDefinition, LABELS, OCI_LABELS, createLogger } from '@faas/contracts';
import { ImageBuildError, ensureFunctionImage, pruneFunctionImages, releaseImageClaims, removeStaleImages } from '../src/images';
import { BASE, PY_BASE, ROOT, defOf, docker, ensureBaseImages, get, removeTempFunctions, tempFunction, uid, waitReady } from './image-fixtures';

const logger = createLogger('images-test', {}, () => undefined);
const imagesToRemove = new Set<string>();
/** The stack whose claims the prune tests set (released at the end, or the images would stay). */
const stack = `imgtest-${uid}`;

before(ensureBaseImages);

after(async () => {
  await releaseImageClaims(docker, stack, logger);
  for (const img of imagesToRemove) await docker.getImage(img).remove({ force: true }).catch(() => undefined);
  removeTempFunctions();
});

/** The ImageBuildError a build rejects with (fails the test when it succeeds or throws anything else). */
async function buildError(build: Promise<unknown>): Promise<ImageBuildError> {
  const caught = await build.then(() => undefined, (err: unknown) => err);
  assert.ok(caught instanceof ImageBuildError, `typed error, got ${String(caught)}`);
  return caught;
}

/** Runs the image as the orchestrator does (read-only root, cap-drop ALL), GETs one path, stops it. */
async function runOnce(t: { after: (fn: () => Promise<unknown>) => void }, image: string, urlPath: string, env: string[] = []): Promise<{ status: number; body: string; exitCode: number }> {
  const container = await docker.createContainer({
    Image: image,
    name: `faas-imgtest-${uid}-${randomBytes(2).toString('hex')}`,
    Env: ['FAAS_CONCURRENCY=2', 'FAAS_TIMEOUT_MS=5000', 'FAAS_DRAIN_TIMEOUT_MS=2000', ...env],
    ExposedPorts: { '8080/tcp': {} },
    StopTimeout: 5,
    HostConfig: {
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,size=16m' },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Memory: 128 * 1024 * 1024,
      PidsLimit: 64,
    },
  });
  t.after(() => container.remove({ force: true }).catch(() => undefined)); // already removed by the test
  await container.start();
  const info = await container.inspect();
  const port = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
  assert.ok(port > 0);
  await waitReady(port);
  const answer = await get(port, urlPath);
  await container.stop({ t: 5 });
  const end = await container.inspect();
  return { ...answer, exitCode: end.State.ExitCode };
}

describe('ensureFunctionImage', () => {
  const name = `imgtest-${uid}`;
  let firstTag = '';
  let previousTag = '';

  test('builds hello with OCI labels, does not rebuild unchanged inputs, rebuilds changed code with a new tag', async () => {
    const dir = tempFunction(path.join(ROOT, 'functions', 'hello'));
    fs.mkdirSync(path.join(dir, 'node_modules', 'junk'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules', 'junk', 'x.js'), 'ignored');
    const def = defOf(name, dir);
    const a = await ensureFunctionImage(docker, def, { baseImage: BASE, stack: 'test', logger });
    imagesToRemove.add(a.tag);
    assert.equal(a.built, true);
    assert.match(a.tag, new RegExp(`^faas-fn-${name}:t1-[0-9a-f]{12}$`));
    assert.equal(a.tag.slice(-12), a.inputsHash.slice(0, 12));
    const info = await docker.getImage(a.tag).inspect();
    assert.equal(info.Config.Labels[LABELS.function], name);
    assert.equal(info.Config.Labels[LABELS.version], 't1');
    assert.equal(info.Config.Labels[LABELS.inputsHash], a.inputsHash);
    assert.equal(info.Config.Labels[LABELS.stack], undefined);
    assert.equal(info.Config.User, '10001:10001');
    assert.equal(info.Config.Labels[OCI_LABELS.title], name);
    assert.equal(info.Config.Labels[OCI_LABELS.version], 't1');
    assert.equal(info.Config.Labels[OCI_LABELS.source], `file://${dir}`);
    // A temp folder is no checkout: no revision rather than a wrong one.
    assert.equal(info.Config.Labels[OCI_LABELS.revision], undefined);
    const created = Date.parse(info.Config.Labels[OCI_LABELS.created] ?? '');
    assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(info.Config.Labels[OCI_LABELS.created] ?? '') && Math.abs(created - Date.now()) < 3_600_000);

    // node_modules content is not an input.
    fs.writeFileSync(path.join(dir, 'node_modules', 'junk', 'x.js'), 'changed, still ignored');
    const b = await ensureFunctionImage(docker, def, { baseImage: BASE, stack: 'test', logger });
    assert.deepEqual({ tag: b.tag, built: b.built, inputsHash: b.inputsHash }, { tag: a.tag, built: false, inputsHash: a.inputsHash });

    fs.appendFileSync(path.join(dir, 'index.js'), '// edited\n');
    const c = await ensureFunctionImage(docker, def, { baseImage: BASE, stack: 'test', logger });
    imagesToRemove.add(c.tag);
    assert.equal(c.built, true);
    assert.notEqual(c.tag, a.tag);

    fs.appendFileSync(path.join(dir, 'index.js'), '// edited again\n');
    const d = await ensureFunctionImage(docker, def, { baseImage: BASE, stack: 'test', logger });
    imagesToRemove.add(d.tag);
    // At start-up the current image and the previous one (c) stay; the older, unused one goes.
    const removed = await removeStaleImages(docker, [def], { baseImage: BASE, stack, logger });
    assert.deepEqual(removed, [a.tag]);
    await assert.rejects(docker.getImage(a.tag).inspect());
    await docker.getImage(c.tag).inspect();
    await docker.getImage(d.tag).inspect();
    firstTag = d.tag;
    previousTag = c.tag;
  });

  test('a container from the image (read-only, cap-drop ALL, uid 10001) serves ready and the handler, and stops with 0', async (t) => {
    assert.ok(firstTag, 'image from the previous test');
    assert.deepEqual(await runOnce(t, firstTag, '/?name=docker'), { status: 200, body: 'Hello, docker!\n', exitCode: 0 });
  });

  test('pruneFunctionImages keeps the named tags and never an image a container uses', async (t) => {
    assert.ok(firstTag && previousTag, 'images from the first test');
    // A created (never started) container holds the previous image.
    const holder = await docker.createContainer({ Image: previousTag, name: `faas-imgtest-${uid}-holder`, Cmd: ['node', '-e', '0'] });
    t.after(() => holder.remove({ force: true }).catch(() => undefined)); // removed below already
    assert.deepEqual(await pruneFunctionImages(docker, name, [firstTag], { stack, logger }), []);
    await docker.getImage(previousTag).inspect();
    await holder.remove({ force: true });
    assert.deepEqual(await pruneFunctionImages(docker, name, [firstTag], { stack, logger }), [previousTag]);
    await assert.rejects(docker.getImage(previousTag).inspect());
    await docker.getImage(firstTag).inspect();
  });

  test('a missing base image is a typed error naming the function', async () => {
    const dir = tempFunction(path.join(ROOT, 'functions', 'hello'));
    await assert.rejects(
      ensureFunctionImage(docker, defOf(name, dir, 'nobase'), { baseImage: `faas-no-such-base:${uid}`, stack: 'test', logger }),
      (err: unknown) => err instanceof ImageBuildError && err.code === 'image_build_failed' && err.context.fn === name && /not present locally/.test(err.message),
    );
  });

  test('a failing build is a typed error with the build log tail, and leaves no tag', async (t) => {
    // A base whose /opt/faas is a file: the COPY step fails inside dockerd.
    const pack = tar.pack();
    pack.entry({ name: 'opt/faas', mode: 0o644 }, 'not a directory');
    pack.finalize();
    const badBase = `faas-imgtest-badbase:${uid}`;
    const [repo, tagPart] = badBase.split(':') as [string, string];
    const stream = await docker.importImage(pack as unknown as NodeJS.ReadableStream, { repo, tag: tagPart });
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
    t.after(() => docker.getImage(badBase).remove({ force: true }).catch(() => undefined));
    const dir = tempFunction(path.join(ROOT, 'functions', 'hello'));
    const caught = await buildError(ensureFunctionImage(docker, defOf(name, dir, 'broken'), { baseImage: badBase, stack: 'test', logger }));
    assert.equal(caught.context.fn, name);
    assert.equal(caught.context.version, 'broken');
    assert.match(caught.message, new RegExp(`${name}@broken`));
    assert.ok(Array.isArray(caught.context.logTail) && caught.context.logTail.length > 0);
    assert.equal(caught.context.reason, 'docker_build');
    // The tail is in the message too, so a status endpoint showing err.message shows it.
    assert.ok(caught.message.includes(caught.context.logTail[caught.context.logTail.length - 1] ?? '?'));
    const leftovers = await docker.listImages({ filters: { reference: [`faas-fn-${name}:broken-*`] } });
    assert.equal(leftovers.length, 0);
  });
});

describe('ensureFunctionImage: python', () => {
  const name = `imgtest-py-${uid}`;
  test('builds a Python image from faas-runtime/python on the Python base, without __pycache__, and it serves', async (t) => {
    const dir = tempFunction(path.join(ROOT, 'functions', 'py-hello'), 'index.py', '#');
    fs.mkdirSync(path.join(dir, '__pycache__'));
    fs.writeFileSync(path.join(dir, '__pycache__', 'index.cpython-311.pyc'), 'junk');
    const def: FunctionDefinition = { ...defOf(name, dir), runtime: 'python' };
    // The Node base is deliberately wrong for Python: the per-runtime setting must win.
    const a = await ensureFunctionImage(docker, def, { baseImage: BASE, pythonBaseImage: PY_BASE, stack: 'test', logger });
    imagesToRemove.add(a.tag);
    assert.equal(a.built, true);
    const info = await docker.getImage(a.tag).inspect();
    assert.equal(info.Config.Labels[LABELS.function], name);
    assert.equal(info.Config.Labels[LABELS.inputsHash], a.inputsHash);
    assert.equal(info.Config.User, '10001:10001');
    assert.deepEqual(info.Config.Cmd, ['python3', '-B', '/opt/faas/runtime/server.py']);
    // A bytecode cache is not an input: same hash, no rebuild.
    fs.writeFileSync(path.join(dir, '__pycache__', 'index.cpython-311.pyc'), 'other junk');
    const b = await ensureFunctionImage(docker, def, { baseImage: BASE, pythonBaseImage: PY_BASE, stack: 'test', logger });
    assert.deepEqual([b.tag, b.built], [a.tag, false]);
    assert.deepEqual(await runOnce(t, a.tag, '/?name=py'), { status: 200, body: 'Hello from Python, py!\n', exitCode: 0 });
  });
  test('a Python syntax error fails the build (bytecode is compiled at build) with the log tail', async () => {
    const dir = tempFunction(path.join(ROOT, 'functions', 'py-hello'), 'index.py', '#');
    fs.appendFileSync(path.join(dir, 'index.py'), 'def broken(:\n');
    await assert.rejects(
      ensureFunctionImage(docker, { ...defOf(name, dir, 'syntax'), runtime: 'python' }, { baseImage: BASE, pythonBaseImage: PY_BASE, stack: 'test', logger }),
      (err: unknown) => err instanceof ImageBuildError && err.context.version === 'syntax' && /SyntaxError/.test(err.message),
    );
  });
  test('a missing Python base names the Python script', async () => {
    const dir = tempFunction(path.join(ROOT, 'functions', 'py-hello'), 'index.py', '#');
    await assert.rejects(
      ensureFunctionImage(docker, { ...defOf(name, dir, 'nobase'), runtime: 'python' }, { baseImage: BASE, pythonBaseImage: `faas-no-such-base:${uid}`, stack: 'test', logger }),
      (err: unknown) => err instanceof ImageBuildError && /make-python-base-image\.sh/.test(err.message),
    );
  });
});

describe('ensureFunctionImage: TypeScript handlers', () => {
  const name = `imgtest-ts-${uid}`;
  test('ts-hello is compiled on the host, labelled with the given revision and source, and serves', async (t) => {
    const dir = tempFunction(path.join(ROOT, 'functions', 'ts-hello'), 'index.ts');
    const def = defOf(name, dir);
    const revision = 'c0ffee'.padEnd(40, '0');
    const a = await ensureFunctionImage(docker, def, { baseImage: BASE, stack: 'test', logger, sourceRevision: revision, sourceUrl: 'https://example.test/faas' });
    imagesToRemove.add(a.tag);
    assert.deepEqual([a.built, a.steps], [true, ['typescript']]);
    const info = await docker.getImage(a.tag).inspect();
    assert.equal(info.Config.Labels[OCI_LABELS.revision], revision);
    assert.equal(info.Config.Labels[OCI_LABELS.source], 'https://example.test/faas');
    // Nothing was written into the function's folder.
    assert.deepEqual(fs.readdirSync(dir).sort(), ['greeting.ts', 'index.ts']);
    const b = await ensureFunctionImage(docker, def, { baseImage: BASE, stack: 'test', logger });
    assert.deepEqual([b.tag, b.built], [a.tag, false]);
    assert.deepEqual(await runOnce(t, a.tag, '/?name=docker'), { status: 200, body: 'Hello from TypeScript, docker!\n', exitCode: 0 });
  });
  test('a type error fails the build with the compiler\'s message, and leaves no tag', async () => {
    const dir = tempFunction(path.join(ROOT, 'functions', 'ts-hello'), 'index.ts');
    fs.appendFileSync(path.join(dir, 'greeting.ts'), 'export const count: number = "three";\n');
    const caught = await buildError(ensureFunctionImage(docker, defOf(name, dir, 'typeerr'), { baseImage: BASE, stack: 'test', logger }));
    assert.equal(caught.context.reason, 'typescript');
    assert.match(caught.message, /greeting\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    assert.ok(caught.context.logTail.some((l) => l.includes('TS2322')));
    assert.equal((await docker.listImages({ filters: { reference: [`faas-fn-${name}:typeerr-*`] } })).length, 0);
  });
});

describe('ensureFunctionImage: Python requirements.txt', () => {
  const name = `imgtest-pyreq-${uid}`;
  const fixture = path.join(ROOT, 'orchestrator', 'test', 'fixtures', 'py-requirements');
  const savedNoIndex = process.env.PIP_NO_INDEX;
  before(() => {
    process.env.PIP_NO_INDEX = '1'; // offline: pip must not look for an index at all
  });
  after(() => {
    if (savedNoIndex === undefined) delete process.env.PIP_NO_INDEX;
    else process.env.PIP_NO_INDEX = savedNoIndex;
  });
  const opts = { baseImage: BASE, pythonBaseImage: PY_BASE, stack: 'test', logger };
  test('a local package named in requirements.txt is installed on the host into deps/ and imported by the handler', async (t) => {
    const dir = tempFunction(fixture, 'index.py', '#');
    const def: FunctionDefinition = { ...defOf(name, dir), runtime: 'python' };
    const a = await ensureFunctionImage(docker, def, opts);
    imagesToRemove.add(a.tag);
    assert.deepEqual([a.built, a.steps], [true, ['requirements']]);
    // pip built the package in a staged copy: no build/ or *.egg-info in the user's folder.
    assert.deepEqual(fs.readdirSync(path.join(dir, 'vendor', 'faas-tinypkg')).sort(), ['faas_tinypkg', 'pyproject.toml']);
    const b = await ensureFunctionImage(docker, def, opts);
    assert.deepEqual([b.tag, b.built], [a.tag, false]);
    const info = await docker.getImage(a.tag).inspect();
    assert.ok((info.Config.Env ?? []).includes('PYTHONPATH=/opt/faas/deps'));
    assert.deepEqual(await runOnce(t, a.tag, '/?name=deps'), { status: 200, body: 'DEPS!\n', exitCode: 0 });
  });
  test('a requirement pip cannot find fails the build with pip\'s output, and leaves no tag', async () => {
    const dir = tempFunction(fixture, 'index.py', '#');
    fs.writeFileSync(path.join(dir, 'requirements.txt'), `faas-no-such-package-${uid}==1.0\n`);
    await assert.rejects(
      ensureFunctionImage(docker, { ...defOf(name, dir, 'nopkg'), runtime: 'python' }, opts),
      (err: unknown) => err instanceof ImageBuildError && err.context.reason === 'requirements' && err.context.logTail.some((l) => /No matching distribution|Could not find a version/.test(l)),
    );
    assert.equal((await docker.listImages({ filters: { reference: [`faas-fn-${name}:nopkg-*`] } })).length, 0);
  });
  test('no interpreter for pip is a clear build error', async () => {
    const dir = tempFunction(fixture, 'index.py', '#');
    const err = await buildError(ensureFunctionImage(docker, { ...defOf(name, dir, 'nopip'), runtime: 'python' }, { ...opts, pipPython: `/nonexistent-${uid}/python3` }));
    assert.equal(err.context.reason, 'requirements');
    assert.match(err.message, /no interpreter .* to run pip for requirements\.txt \(install python3-pip, or set FAAS_PYTHON\)/);
  });
});
