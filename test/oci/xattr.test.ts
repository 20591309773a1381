/**
 * readLayerXattrs: xattrs of layer directories, remembered by path, inode and ctime. Setting an
 * xattr changes the ctime, so a fresh lstat always gets the truth; the same lstat gets the answer
 * given before, without another getfattr.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLayerXattrs } from '../../core/src/oci/index.js';
import { isRoot, removeDir, sh, tempDir } from './helpers.js';

let tmp = '';
beforeAll(async () => {
  if (!isRoot()) throw new Error('test/oci/xattr.test.ts needs root (trusted.* xattrs)');
  tmp = await tempDir('xattr');
});
afterAll(() => removeDir(tmp));

const value = (m: Map<string, Record<string, Buffer>>, path: string): string | undefined =>
  m.get(path)?.['trusted.overlay.opaque']?.toString();

describe('readLayerXattrs', () => {
  it('reads, remembers for the same lstat, and reads again once the ctime moved', async () => {
    const dir = join(tmp, 'layer', 'etc');
    const bare = join(tmp, 'layer', 'bare');
    mkdirSync(dir, { recursive: true });
    mkdirSync(bare);
    await sh('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
    const before = lstatSync(dir);
    const first = await readLayerXattrs([
      { path: dir, stat: before },
      { path: bare, stat: lstatSync(bare) },
    ]);
    expect(value(first, dir)).toBe('y');
    expect(first.has(bare)).toBe(false);

    await sh('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'n', dir]);
    expect(value(await readLayerXattrs([{ path: dir, stat: before }]), dir)).toBe('y');
    const after = lstatSync(dir);
    expect(after.ctimeMs).not.toBe(before.ctimeMs);
    expect(value(await readLayerXattrs([{ path: dir, stat: after }]), dir)).toBe('n');
  });
});
