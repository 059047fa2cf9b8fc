/**
 * Self-healing against the real dockerd: an instance start whose image was removed after it
 * was built (another stack's prune, `docker image prune`, a user) rebuilds the image and starts.
 * The driver and the image memo are the orchestrator's own (orchestrator.ts wires them so).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FaasError, type FunctionDefinition, createLogger } from '@faas/contracts';
import { DockerDriver } from '../src/docker-driver';
import { ImageCache } from '../src/image-cache';
import { ensureFunctionImage } from '../src/images';
import { BASE, ROOT, defOf, docker, ensureBaseImages, get, removeTempFunctions, tempFunction, uid, waitReady } from './image-fixtures';

const lines: Record<string, unknown>[] = [];
const logger = createLogger('image-heal-test', {}, (l) => void lines.push(JSON.parse(l) as Record<string, unknown>));
const stack = `heal-${uid}`;
const tags = new Set<string>();
const containers: string[] = [];

before(ensureBaseImages);
after(async () => {
  for (const id of containers) await docker.getContainer(id).remove({ force: true }).catch(() => undefined); // stopped by the test already
  for (const t of tags) await docker.getImage(t).remove({ force: true }).catch(() => undefined); // the test may have removed it
  removeTempFunctions();
});

/** The orchestrator's wiring: a memo of builds, and a driver that rebuilds through it. */
function wiring(rebuild = true): { cache: ImageCache; driver: DockerDriver } {
  const cache = new ImageCache((def: FunctionDefinition) => {
    return ensureFunctionImage(docker, def, { baseImage: BASE, stack, logger }).then((r) => {
      tags.add(r.tag);
      return r.tag;
    });
  }, () => undefined);
  const driver = new DockerDriver(docker, stack, 'loopback', 'unused', logger, '', undefined, undefined, rebuild ? (def, missing) => cache.rebuild(def, missing) : undefined);
  return { cache, driver };
}

describe('a start whose image is gone', () => {
  const def = defOf(`imgheal-${uid}`, tempFunction(path.join(ROOT, 'functions', 'hello')));

  test('rebuilds the image once for concurrent starts, logs image_missing_rebuilt, and the instances serve', async () => {
    const { cache, driver } = wiring();
    const tag = await cache.tag(def);
    await docker.getImage(tag).remove(); // what another stack's prune does
    const started = await Promise.all([0, 1].map(async (i) => {
      const run = await driver.start({ def, image: await cache.tag(def), instanceId: `${uid}-${i}` });
      containers.push(run.containerId);
      return run;
    }));
    await docker.getImage(tag).inspect(); // there again, under the same content tag
    const built = lines.filter((l) => l.event === 'image_built' && l.fn === def.name);
    assert.equal(built.length, 2, 'the first build and one rebuild for both starts');
    const healed = lines.filter((l) => l.event === 'image_missing_rebuilt');
    assert.deepEqual(healed.map((l) => [l.fn, l.tag, l.rebuiltTag]), [[def.name, tag, undefined], [def.name, tag, undefined]]);
    for (const run of started) {
      await waitReady(run.port);
      assert.deepEqual(await get(run.port, '/?name=heal'), { status: 200, body: 'Hello, heal!\n' });
      await driver.stop(run.containerId, 5);
    }
    assert.equal(await cache.tag(def), tag);
  });

  test('without a rebuild the create fails as before (container_create_failed naming the function)', async () => {
    const { cache, driver } = wiring(false);
    const tag = await cache.tag(def);
    await docker.getImage(tag).remove();
    await assert.rejects(driver.create({ def, image: tag, instanceId: `${uid}-x` }), (err: unknown) => err instanceof FaasError && err.code === 'container_create_failed' && err.context.fn === def.name && /No such image/.test(err.message));
  });
});
