/** The pure parts of function images: what to prune, which host steps run, labels, tags, the Dockerfile, the git revision. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { LABELS, OCI_LABELS, imageClaimTagPart, parseImageClaim } from '@faas/contracts';
import { buildStepsOf, renderDockerfile } from '../src/build-context';
import { imageLabels, readGitRevision } from '../src/image-labels';
import { type FunctionImage, planImagePrune } from '../src/image-prune';
import { imageTag } from '../src/images';

const img = (tag: string, created: number, id = `sha256:${tag}`): FunctionImage => ({ id, tags: [`faas-fn-f:${tag}`], created });
/** The image with claims added: `stack/role` each. */
const claimed = (image: FunctionImage, ...claims: `${string}/${'active' | 'previous'}`[]): FunctionImage => ({ ...image, tags: [...image.tags, ...claims.map((c) => `faas-fn-f:claim-${c.replace('/', '-')}`)] });
const tagsOf = (xs: readonly FunctionImage[]): string[] => xs.map((x) => x.tags[0]?.split(':')[1] ?? '?');

describe('planImagePrune', () => {
  const a = img('1-aaa', 100);
  const b = img('2-bbb', 200);
  const c = img('3-ccc', 300);
  const d = img('4-ddd', 400);
  const cases: { name: string; images: FunctionImage[]; keepTags: string[]; inUse?: string[]; keepNewest: number; keep: string[]; remove: string[]; claim?: string[]; release?: string[] }[] = [
    { name: 'keeps the named active and previous versions, removes the rest', images: [a, b, c, d], keepTags: ['faas-fn-f:4-ddd', 'faas-fn-f:2-bbb'], keepNewest: 0, keep: ['2-bbb', '4-ddd'], remove: ['3-ccc', '1-aaa'] },
    { name: 'never removes an image a container uses', images: [a, b, c], keepTags: ['faas-fn-f:3-ccc'], inUse: [a.id], keepNewest: 0, keep: ['1-aaa', '3-ccc'], remove: ['2-bbb'] },
    { name: 'start-up: current plus the newest other (previous version)', images: [a, c, b, d], keepTags: ['faas-fn-f:2-bbb'], keepNewest: 1, keep: ['2-bbb', '4-ddd'], remove: ['3-ccc', '1-aaa'] },
    { name: 'an in-use image does not count as the previous version', images: [a, b, c], keepTags: ['faas-fn-f:1-aaa'], inUse: [c.id], keepNewest: 1, keep: ['1-aaa', '3-ccc', '2-bbb'], remove: [] },
    { name: 'nothing named (first build failed): keepNewest still protects', images: [a, b], keepTags: [], keepNewest: 1, keep: ['2-bbb'], remove: ['1-aaa'] },
    { name: 'same creation second: ordered by tag, not by list order', images: [img('b', 5), img('a', 5), img('c', 5)], keepTags: [], keepNewest: 1, keep: ['a'], remove: ['b', 'c'] },
    { name: 'no images', images: [], keepTags: ['faas-fn-f:1-x'], keepNewest: 1, keep: [], remove: [] },
    // Scoping: images are shared by every stack on the host ('s' prunes here).
    { name: "another stack's claimed image stays though no container uses it (built, scaled to zero)", images: [claimed(a, 'dev/active'), b], keepTags: ['faas-fn-f:2-bbb'], keepNewest: 0, keep: ['1-aaa', '2-bbb'], remove: [], claim: ['active=2-bbb'] },
    { name: 'a claim of this stack itself does not keep an image', images: [claimed(a, 's/previous'), b, c], keepTags: ['faas-fn-f:3-ccc', 'faas-fn-f:2-bbb'], keepNewest: 0, keep: ['2-bbb', '3-ccc'], remove: ['1-aaa'], claim: ['active=3-ccc', 'previous=2-bbb'] },
    { name: "another stack's previous claim keeps too; it does not count as this stack's previous", images: [a, b, claimed(d, 'dev/previous'), c], keepTags: ['faas-fn-f:1-aaa'], keepNewest: 1, keep: ['1-aaa', '3-ccc', '4-ddd'], remove: ['2-bbb'], claim: ['active=1-aaa', 'previous=3-ccc'] },
    { name: 'start-up: the image this stack last had active beats a newer unclaimed one', images: [claimed(a, 's/active'), b, c], keepTags: ['faas-fn-f:3-ccc'], keepNewest: 1, keep: ['1-aaa', '3-ccc'], remove: ['2-bbb'], claim: ['active=3-ccc', 'previous=1-aaa'] },
    { name: 'no previous any more: the previous claim is released, its image removed', images: [claimed(b, 's/previous'), claimed(c, 's/active')], keepTags: ['faas-fn-f:3-ccc'], keepNewest: 0, keep: ['3-ccc'], remove: ['2-bbb'], claim: ['active=3-ccc'], release: ['previous'] },
    { name: 'a named tag Docker no longer lists is not claimed, and the previous keeps its role', images: [a, b], keepTags: ['faas-fn-f:9-gone', 'faas-fn-f:2-bbb'], keepNewest: 0, keep: ['2-bbb'], remove: ['1-aaa'], claim: ['previous=2-bbb'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planImagePrune(c.images, { stack: 's', keepTags: c.keepTags, inUse: new Set(c.inUse ?? []), keepNewest: c.keepNewest });
      assert.deepEqual(tagsOf(plan.keep.map((k) => k.image)).sort(), [...c.keep].sort());
      assert.deepEqual(tagsOf(plan.remove), c.remove);
      if (c.claim) assert.deepEqual(plan.claim.map((x) => `${x.role}=${x.tag.split(':')[1]}`), c.claim);
      assert.deepEqual(plan.release, c.release ?? []);
    });
  }
  it('says why each image is kept', () => {
    const plan = planImagePrune([a, b, c], { stack: 's', keepTags: ['faas-fn-f:3-ccc'], inUse: new Set([a.id]), keepNewest: 1 });
    assert.deepEqual(plan.keep.map((k) => [tagsOf([k.image])[0], k.reason]), [['1-aaa', 'in_use'], ['3-ccc', 'named'], ['2-bbb', 'previous']]);
    const other = planImagePrune([claimed(a, 'b-2/active', 'a-1/previous', 'b-2/previous', 's/active')], { stack: 's', keepTags: [], inUse: new Set(), keepNewest: 0 });
    assert.deepEqual(other.keep.map((k) => [k.reason, k.by]), [['claimed', ['a-1', 'b-2']]]);
    assert.deepEqual(other.release, ['active']);
  });
  it('claim tags: made and parsed by the contract; content tags (ending in 12 hex) are none', () => {
    assert.equal(imageClaimTagPart('my-stack', 'previous'), 'claim-my-stack-previous');
    assert.deepEqual(parseImageClaim('claim-my-stack-previous'), { stack: 'my-stack', role: 'previous' });
    for (const t of ['1-3f2a9c0d1b7e', 'claim-x-active-3f2a9c0d1b7e', 'claim--active', 'claim-x-latest']) assert.equal(parseImageClaim(t), undefined, t);
  });
});

describe('buildStepsOf', () => {
  const cases: { runtime: 'node' | 'python'; handler: string; files: string[]; steps: string[] }[] = [
    { runtime: 'node', handler: 'index.handler', files: ['index.js'], steps: [] },
    { runtime: 'node', handler: 'index.handler', files: ['index.ts'], steps: ['typescript'] },
    { runtime: 'node', handler: 'src/main.run', files: ['src/main.ts', 'README.md'], steps: ['typescript'] },
    { runtime: 'node', handler: 'index.handler', files: ['index.js', 'tsconfig.json', 'src/a.ts'], steps: ['typescript'] },
    // A .js next to the .ts is what runs: no compile step (e.g. checked-in output).
    { runtime: 'node', handler: 'index.handler', files: ['index.js', 'index.ts'], steps: [] },
    { runtime: 'python', handler: 'index.handler', files: ['index.py', 'requirements.txt'], steps: ['requirements'] },
    { runtime: 'python', handler: 'index.handler', files: ['index.py', 'sub/requirements.txt'], steps: [] },
    { runtime: 'python', handler: 'index.handler', files: ['index.py', 'tsconfig.json'], steps: [] },
  ];
  for (const c of cases) {
    it(`${c.runtime} ${c.handler} [${c.files.join(', ')}] -> [${c.steps.join(', ')}]`, () => {
      assert.deepEqual(buildStepsOf({ runtime: c.runtime, handler: c.handler }, c.files), c.steps);
    });
  }
});

describe('renderDockerfile', () => {
  const def = { name: 'f', version: '1', handler: 'index.handler', runtime: 'python' as const };
  it('with requirements: copies deps, compiles their bytecode and puts them on PYTHONPATH', () => {
    const text = renderDockerfile(def, ['requirements']);
    assert.match(text, /^COPY deps\/ \/opt\/faas\/deps\/$/m);
    assert.match(text, /^RUN \["python3", "-m", "compileall", "-q", "\/opt\/faas\/runtime", "\/opt\/faas\/function", "\/opt\/faas\/deps"\]$/m);
    assert.match(text, / PYTHONPATH=\/opt\/faas\/deps$/m);
  });
  it('without: no deps line, and the Python text is what earlier builds hashed', () => {
    const text = renderDockerfile(def);
    assert.doesNotMatch(text, /deps/);
    assert.match(text, /^RUN \["python3", "-m", "compileall", "-q", "\/opt\/faas\/runtime", "\/opt\/faas\/function"\]$/m);
  });
});

describe('imageTag and imageLabels', () => {
  it('tags <repo>:<version>-<12 hex of the inputs hash>', () => {
    assert.equal(imageTag('hello', '1.2', 'abcdef0123456789ffff'), 'faas-fn-hello:1.2-abcdef012345');
  });
  const def = { name: 'hello', version: '3', codeDir: '/srv/fns/hello world' };
  const created = new Date(Date.UTC(2026, 11, 2, 15, 4, 5, 6));
  it('OCI labels plus the platform labels; revision only when known', () => {
    assert.deepEqual(imageLabels(def, 'h'.repeat(64), created, {}), {
      [LABELS.function]: 'hello', [LABELS.version]: '3', [LABELS.inputsHash]: 'h'.repeat(64),
      [OCI_LABELS.title]: 'hello', [OCI_LABELS.version]: '3', [OCI_LABELS.created]: '2026-12-02T15:04:05.006Z',
      [OCI_LABELS.source]: 'file:///srv/fns/hello%20world',
    });
    const withProv = imageLabels(def, 'x', created, { revision: 'a'.repeat(40), sourceUrl: 'https://example.test/repo' });
    assert.equal(withProv[OCI_LABELS.revision], 'a'.repeat(40));
    assert.equal(withProv[OCI_LABELS.source], 'https://example.test/repo');
  });
});

describe('readGitRevision', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'faas-gitrev-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const sha1 = '1'.repeat(40);
  const sha2 = '2'.repeat(40);
  const write = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  it('reads a loose ref, a packed ref, a detached HEAD and a worktree, from a subfolder', () => {
    write('repo/.git/HEAD', 'ref: refs/heads/main\n');
    write('repo/.git/refs/heads/main', `${sha1}\n`);
    write('repo/functions/f/index.js', '');
    assert.equal(readGitRevision(path.join(root, 'repo/functions/f')), sha1);
    fs.rmSync(path.join(root, 'repo/.git/refs/heads/main'));
    write('repo/.git/packed-refs', `# pack-refs with: peeled fully-peeled sorted\n${sha2} refs/heads/main\n`);
    assert.equal(readGitRevision(path.join(root, 'repo/functions/f')), sha2);
    // A worktree: .git is a file naming its git dir, whose commondir holds the refs.
    write('repo/.git/worktrees/wt/HEAD', 'ref: refs/heads/main\n');
    write('repo/.git/worktrees/wt/commondir', '../..\n');
    write('wt/.git', `gitdir: ${path.join(root, 'repo/.git/worktrees/wt')}\n`);
    assert.equal(readGitRevision(path.join(root, 'wt')), sha2);
    write('repo/.git/HEAD', `${sha1}\n`);
    assert.equal(readGitRevision(path.join(root, 'repo')), sha1);
  });
  it('undefined outside a checkout or for an unknown ref', () => {
    write('plain/f/index.js', '');
    assert.equal(readGitRevision(path.join(root, 'plain/f')), undefined);
    write('other/.git/HEAD', 'ref: refs/heads/nowhere\n');
    assert.equal(readGitRevision(path.join(root, 'other')), undefined);
  });
});
