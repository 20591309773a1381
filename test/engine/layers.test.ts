/**
 * startLayer: a step's layer handed on before its blob is written. When it returns, the layer's
 * snapshot is in the store and complete; `layer` then resolves to the very blob writeLayer makes of
 * the same entries, in the store. A failure while the tar is made rejects startLayer itself and
 * leaves nothing behind.
 */
import { existsSync, lstatSync, statSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotId, startLayer } from '../../core/src/engine/layers.js';
import {
  applyLayerAsLowerdir,
  entriesFromDirectory,
  entriesFromUpperdir,
  readLayerXattrs,
  writeLayer,
} from '../../core/src/oci/index.js';
import { Store } from '../../core/src/store/index.js';
import { describeTree, isRoot, noise, removeDir, sh, tempDir } from '../oci/helpers.js';

const EPOCH = 1_650_000_000;
let tmp = '';
let store: Store;

beforeAll(async () => {
  if (!isRoot()) throw new Error('test/engine/layers.test.ts needs root (file owners)');
  tmp = await tempDir('start-layer');
  store = await Store.open({ root: join(tmp, 'store') });
});
afterAll(() => removeDir(tmp));

async function tree(name: string): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(join(dir, 'app/src'), { recursive: true });
  await writeFile(join(dir, 'app/src/main.js'), 'console.log("hi")\n');
  await writeFile(join(dir, 'app/big.bin'), noise(6_000_000, name));
  return dir;
}

/** What writeLayer alone makes of a directory: the reference. */
async function reference(dir: string): Promise<{ digest: string; diffId: string }> {
  return writeLayer(await entriesFromDirectory(dir), join(tmp, `${Math.random()}.tar.gz`), { epoch: EPOCH });
}

describe('startLayer', () => {
  it('hands on a teed snapshot that is complete, and a layer that is the blob writeLayer makes', async () => {
    const dir = await tree('tee');
    const write = await startLayer(store, await entriesFromDirectory(dir), EPOCH, undefined, { snapshot: 'tee' });
    expect(write?.snapshot).toBe(store.snapshotPath(snapshotId(write!.diffId)));
    const snapshotTree = await describeTree(write!.snapshot!);
    const layer = await write!.layer;
    expect(layer).toMatchObject(await reference(dir));
    expect(await store.hasBlob(layer.digest)).toBe(true);
    const extracted = join(tmp, 'tee-extracted');
    await applyLayerAsLowerdir(store.blobPath(layer.digest), extracted);
    expect(snapshotTree).toEqual(await describeTree(extracted));
  });

  it('renames an upperdir into place as the snapshot once its files are read', async () => {
    const dir = await tree('upper');
    const before = await describeTree(dir);
    const expected = await reference(dir);
    const write = await startLayer(store, await entriesFromUpperdir(dir), EPOCH, undefined, { upperdir: dir });
    expect(existsSync(dir)).toBe(false);
    expect(await describeTree(write!.snapshot!)).toEqual(before);
    expect(await write!.layer).toMatchObject(expected);
  });

  it('tells the lowerdir lookups what xattrs its snapshot holds, opaque marks included, without getfattr', async () => {
    const dir = await tree('opaque-upper');
    await mkdir(join(dir, 'app/gone'));
    await writeFile(join(dir, 'app/gone/new'), 'replaces a directory\n');
    await sh('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(dir, 'app/gone')]);
    await sh('setfattr', ['-n', 'user.note', '-v', 'kept', join(dir, 'app/src')]);
    const write = await startLayer(store, await entriesFromUpperdir(dir), EPOCH, undefined, { upperdir: dir });
    const gone = join(write!.snapshot!, 'app/gone');
    const src = join(write!.snapshot!, 'app/src');
    const [goneStat, srcStat] = [lstatSync(gone), lstatSync(src)];
    // What getfattr would say now differs: only an answer remembered when the layer was written says y.
    await sh('setfattr', ['-x', 'trusted.overlay.opaque', gone]);
    await sh('setfattr', ['-x', 'user.note', src]);
    const known = await readLayerXattrs([
      { path: gone, stat: goneStat },
      { path: src, stat: srcStat },
    ]);
    expect(known.get(gone)?.['trusted.overlay.opaque']?.toString()).toBe('y');
    expect(known.get(src)?.['user.note']?.toString()).toBe('kept');
    await write!.layer;
  });

  it('makes no snapshot unless asked, and still gives the diff_id before the blob', async () => {
    const dir = await tree('plain');
    const write = await startLayer(store, await entriesFromDirectory(dir), EPOCH);
    expect(write?.snapshot).toBeUndefined();
    expect(existsSync(store.snapshotPath(snapshotId(write!.diffId)))).toBe(false);
    expect(await write!.layer).toMatchObject(await reference(dir));
  });

  it('rejects when a file cannot be read for the tar, leaving no snapshot or temporary file', async () => {
    const dir = await tree('vanishing');
    const entries = await entriesFromDirectory(dir);
    await rm(join(dir, 'app/src/main.js'));
    const leftovers = async (): Promise<string[]> =>
      (await readdir(store.paths.tmp)).filter((n) => /^(snapshot|layer)-/.test(n));
    const before = await leftovers();
    await expect(startLayer(store, entries, EPOCH, undefined, { snapshot: 'tee' })).rejects.toThrow(
      `layer entry app/src/main.js: ${dir}/app/src/main.js was removed while the build read it`,
    );
    expect(await leftovers()).toEqual(before);
  });

  it('is nothing for no entries, and removes the upperdir it was given', async () => {
    const empty = join(tmp, 'empty-upper');
    await mkdir(empty);
    expect(await startLayer(store, [], EPOCH, undefined, { upperdir: empty })).toBeUndefined();
    expect(existsSync(empty)).toBe(false);
  });
});

describe('writeLayer onTarEnd', () => {
  it('gives the diff_id once, before the last members are written', async () => {
    const dir = await tree('tar-end');
    const calls: string[] = [];
    let fileSizeAtEnd = -1;
    const out = join(tmp, 'tar-end.tar.gz');
    const written = await writeLayer(await entriesFromDirectory(dir), out, {
      epoch: EPOCH,
      onTarEnd: (diffId) => {
        calls.push(diffId);
        fileSizeAtEnd = existsSync(out) ? statSync(out).size : 0;
      },
    });
    expect(calls).toEqual([written.diffId]);
    expect(fileSizeAtEnd).toBeLessThan(written.size);
  });
});
