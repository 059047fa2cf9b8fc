/** The image memo: one build per definition, a forgotten failure, rebuilds shared by concurrent callers; isNoSuchImage. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FunctionDefinition, definitionWithDefaults } from '@faas/contracts';
import { ImageCache, createRebuildingImage, isNoSuchImage } from '../src/image-cache';

const def = (): FunctionDefinition => definitionWithDefaults('f', '/srv/f', { version: '1' });
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

function counting(results: (string | Error)[]): { build: (d: FunctionDefinition) => Promise<string>; calls: () => number } {
  let n = 0;
  return {
    build: async () => {
      const r = results[Math.min(n, results.length - 1)]!;
      n += 1;
      if (r instanceof Error) throw r;
      return r;
    },
    calls: () => n,
  };
}

describe('ImageCache', () => {
  it('builds once per definition object', async () => {
    const b = counting(['t1']);
    const cache = new ImageCache(b.build, () => undefined);
    const d = def();
    assert.deepEqual(await Promise.all([cache.tag(d), cache.tag(d)]), ['t1', 't1']);
    assert.equal(await cache.tag(def()), 't1');
    assert.equal(b.calls(), 2);
  });
  it('forgets a failed build only when told to (the retry delay)', async () => {
    const b = counting([new Error('boom'), 't1']);
    let forget: (() => void) | undefined;
    const cache = new ImageCache(b.build, (f) => { forget = f; });
    const d = def();
    await assert.rejects(cache.tag(d), /boom/);
    await assert.rejects(cache.tag(d), /boom/);
    assert.equal(b.calls(), 1);
    forget!();
    assert.equal(await cache.tag(d), 't1');
  });
  it('concurrent rebuilds of a missing tag share one build; a stale report after a rebuild does not build again', async () => {
    const b = counting(['t1']);
    const cache = new ImageCache(b.build, () => undefined);
    const d = def();
    await cache.tag(d);
    assert.deepEqual(await Promise.all([cache.rebuild(d, 't1'), cache.rebuild(d, 't1')]), ['t1', 't1']);
    assert.equal(b.calls(), 2);
    // The memo holds another tag (code changed under the version): that one is used.
    const c = new ImageCache(counting(['t2']).build, () => undefined);
    await c.tag(d);
    assert.equal(await c.rebuild(d, 't1'), 't2');
  });
});

describe('createRebuildingImage', () => {
  const missing = Object.assign(new Error('(HTTP code 404) no such container - No such image: faas-fn-f:1-abc'), { statusCode: 404 });
  it('recognises only a 404 naming a missing image', () => {
    assert.equal(isNoSuchImage(missing), true);
    assert.equal(isNoSuchImage(Object.assign(new Error('No such container: x'), { statusCode: 404 })), false);
    assert.equal(isNoSuchImage(Object.assign(new Error('No such image: x'), { statusCode: 500 })), false);
    assert.equal(isNoSuchImage('No such image'), false);
  });
  it('rebuilds once and retries with the rebuilt tag; a second miss is thrown', async () => {
    const tried: string[] = [];
    const rebuilt: string[] = [];
    const create = async (image: string) => {
      tried.push(image);
      if (image === 'old') throw missing;
      return `created ${image}`;
    };
    const spec = { def: def(), image: 'old' };
    assert.equal(await createRebuildingImage(spec, async (_d, m) => (rebuilt.push(m), 'new'), quiet, create), 'created new');
    assert.deepEqual([tried, rebuilt], [['old', 'new'], ['old']]);
    await assert.rejects(createRebuildingImage(spec, async () => 'old', quiet, create), /No such image/);
    await assert.rejects(createRebuildingImage(spec, undefined, quiet, create), /No such image/);
  });
});
