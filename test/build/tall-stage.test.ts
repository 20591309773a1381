/**
 * A RUN step on a stage of 71 layers: their store paths are far more than the page of options a
 * mount takes, and the step still sees every layer (core/src/exec/overlay.ts mounts long chains
 * through short relative names).
 */
import { execFileSync } from 'node:child_process';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../core/src/store/index.js';
import { sandbox, type Sandbox } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/tall-stage', import.meta.url));

let box: Sandbox;
beforeAll(async () => {
  box = await sandbox(FIXTURE);
});
afterAll(() => box?.remove());

describe('a stage taller than a page of mount options', () => {
  it('runs its RUN step over all 71 layers', async () => {
    const r = await box.build();
    expect(r.executed).toHaveLength(71);
    const store = await Store.open({ root: box.home });
    const manifest = JSON.parse(await text(store.readBlob(r.images[0]!.manifestDigest))) as {
      layers: { digest: string }[];
    };
    expect(manifest.layers).toHaveLength(72);
    // What the RUN step's lowerdirs would take as mount options, named by their store paths.
    expect(71 * (store.snapshotPath('0'.repeat(64)).length + 1)).toBeGreaterThan(4096);
    const count = execFileSync('tar', ['-xzOf', store.blobPath(manifest.layers.at(-1)!.digest), 'count'], {
      encoding: 'utf8',
    });
    expect(count).toBe('70\na layer\n');
  });
});
