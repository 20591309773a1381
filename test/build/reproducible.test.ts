/**
 * Reproducible images: the same project built from two empty stores (two cold builds, every step
 * executed twice) gives byte-identical manifests, so identical digests, for every image.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/helpers.js';
import { sandbox, type Sandbox } from './helpers.js';

describe('two empty stores, one project', () => {
  const boxes: Sandbox[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) boxes.push(await sandbox(join(ROOT, 'examples/monorepo'), `drydock-repro-${i}-`));
  });
  afterAll(async () => Promise.all(boxes.map((b) => b.remove())));

  it('build to identical manifest digests, with every step executed each time', async () => {
    const [a, b] = await Promise.all(boxes.map((box) => box.build()));
    expect(a!.executed.length).toBeGreaterThan(0);
    expect(b!.executed.sort()).toEqual(a!.executed.sort());
    expect(b!.images.map((i) => [i.name, i.manifestDigest])).toEqual(a!.images.map((i) => [i.name, i.manifestDigest]));
  });

  it('pin the same base images', async () => {
    const [lockA, lockB] = await Promise.all(boxes.map((box) => readFile(join(box.dir, 'images.lock.json'), 'utf8')));
    expect(lockB).toBe(lockA);
  });

  it('give other layers under another SOURCE_DATE_EPOCH (file times are part of a layer)', async () => {
    const before = await boxes[1]!.build();
    const r = await boxes[0]!.build({ env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(r.executed.length).toBeGreaterThan(0);
    expect(r.images.map((i) => i.manifestDigest)).not.toEqual(before.images.map((i) => i.manifestDigest));
  });
});
