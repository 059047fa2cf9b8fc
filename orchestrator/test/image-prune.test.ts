/**
 * Two stacks on one dockerd with different code for the same function name: each one's
 * pruning leaves the images the other claims (built, no container), until the other stops.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@faas/contracts';
import { ensureFunctionImage, pruneFunctionImages, releaseImageClaims } from '../src/images';
import { BASE, ROOT, defOf, docker, ensureBaseImages, removeTempFunctions, tempFunction, uid } from './image-fixtures';

const logger = createLogger('image-prune-test', {}, () => undefined);
const [dev, test1] = [`dev-${uid}`, `test-${uid}`];
const tags = new Set<string>();
const exists = (tag: string) => docker.getImage(tag).inspect().then(() => true, () => false);

before(ensureBaseImages);
after(async () => {
  for (const s of [dev, test1]) await releaseImageClaims(docker, s, logger);
  for (const t of tags) await docker.getImage(t).remove({ force: true }).catch(() => undefined); // pruned by the test already
  removeTempFunctions();
});

describe('pruning across stacks', () => {
  const name = `imgprune-${uid}`;
  const dir = tempFunction(path.join(ROOT, 'functions', 'hello'));
  /** Builds the function's code as it is now, after appending `edit` (a new image). */
  const build = async (edit: string): Promise<string> => {
    fs.appendFileSync(path.join(dir, 'index.js'), `// ${edit}\n`);
    const r = await ensureFunctionImage(docker, defOf(name, dir), { baseImage: BASE, stack: dev, logger });
    tags.add(r.tag);
    return r.tag;
  };
  const prune = (stack: string, keep: string[]) => pruneFunctionImages(docker, name, keep, { stack, logger });

  test("a stack's rollouts never remove the other stack's active image; its stop releases it", async () => {
    const d1 = await build('dev 1');
    assert.deepEqual(await prune(dev, [d1]), []);
    const t1 = await build('test 1');
    // The test stack starts: the dev stack's image has no container, yet it stays (claimed).
    assert.deepEqual(await prune(test1, [t1]), []);
    const d2 = await build('dev 2');
    assert.deepEqual(await prune(dev, [d2, d1]), []);
    const d3 = await build('dev 3');
    // d1 was only the dev stack's: it goes; t1 is the test stack's active image: it stays.
    assert.deepEqual(await prune(dev, [d3, d2]), [d1]);
    assert.deepEqual(await Promise.all([d1, t1, d2, d3].map(exists)), [false, true, true, true]);
    const claims = (await docker.getImage(d3).inspect()).RepoTags.filter((t) => t.includes(':claim-')).sort();
    assert.deepEqual(claims, [`faas-fn-${name}:claim-${dev}-active`]);

    // The test stack stops: its claim goes, the image is unclaimed and the next prune takes it.
    assert.deepEqual(await releaseImageClaims(docker, test1, logger), [`faas-fn-${name}:claim-${test1}-active`]);
    assert.equal(await exists(t1), true);
    assert.deepEqual(await prune(dev, [d3, d2]), [t1]);
    assert.equal(await exists(t1), false);
  });
});
