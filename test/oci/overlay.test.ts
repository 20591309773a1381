import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyLayerAsLowerdir,
  entriesFromUpperdir,
  readXattrs,
  writeLayer,
  type LayerEntry,
} from '../../core/src/oci/index.js';
import {
  describeTree,
  dirEntry as dir,
  fileEntry as file,
  isRoot,
  mount,
  removeDir,
  tempDir,
  umount,
} from './helpers.js';

// Real overlay mounts: needs root (the test bench runs as root).
const EPOCH = 1_600_000_000;
let tmp = '';
beforeAll(async () => {
  if (!isRoot()) throw new Error('test/oci/overlay.test.ts needs root (overlay mounts, mknod, trusted.* xattrs)');
  tmp = await tempDir('overlay');
});
afterAll(() => removeDir(tmp));

/** Mounts overlay at merged, runs fn, and always unmounts. */
async function withOverlay<T>(opts: string, merged: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(merged, { recursive: true });
  await mount(['-t', 'overlay', 'overlay', '-o', opts, merged]);
  try {
    return await fn();
  } finally {
    await umount(merged);
  }
}

describe('entriesFromUpperdir', () => {
  it('turns a RUN step’s overlay upperdir into OCI whiteouts and opaque markers', async () => {
    const base = join(tmp, 'up');
    const lower = join(base, 'lower');
    const upper = join(base, 'upper');
    const work = join(base, 'work');
    const merged = join(base, 'merged');
    for (const d of ['lower/etc', 'lower/olddir/sub', 'upper', 'work']) await mkdir(join(base, d), { recursive: true });
    await writeFile(join(lower, 'etc/keep'), 'keep');
    await writeFile(join(lower, 'etc/gone'), 'gone');
    await writeFile(join(lower, 'olddir/sub/x'), 'x');
    await writeFile(join(lower, 'olddir/y'), 'y');

    const view = await withOverlay(`lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged, async () => {
      // What a RUN step would do: delete a file, replace a directory, add files with metadata.
      await rm(join(merged, 'etc/gone'));
      await rm(join(merged, 'olddir'), { recursive: true });
      await mkdir(join(merged, 'olddir'), { mode: 0o750 });
      await writeFile(join(merged, 'olddir/new'), 'new');
      await writeFile(join(merged, 'etc/added'), 'added', { mode: 0o600 });
      await symlink('added', join(merged, 'etc/link'));
      execFileSync('setfattr', ['-n', 'user.drydock', '-v', 'kept', join(merged, 'etc/added')]);
      return describeTree(merged);
    });

    const entries = await entriesFromUpperdir(upper);
    expect(entries.map((e) => `${e.path} ${e.type} ${(e.mode & 0o7777).toString(8)}`)).toEqual([
      'etc dir 755',
      'etc/.wh.gone file 0',
      'etc/added file 600',
      'etc/link symlink 777',
      'olddir dir 750',
      'olddir/.wh..wh..opq file 0',
      'olddir/new file 644',
    ]);
    for (const e of entries) {
      expect(Object.keys(e.xattrs ?? {}).filter((n) => n.startsWith('trusted.overlay.'))).toEqual([]);
    }
    expect(entries.find((e) => e.path === 'etc/added')!.xattrs).toEqual({ 'user.drydock': Buffer.from('kept') });

    // Round trip: the layer applied as a lowerdir over the same lower shows the RUN step's view.
    const layer = join(base, 'layer.tar.gz');
    await writeLayer(entries, layer, { epoch: EPOCH });
    const applied = join(base, 'applied');
    await applyLayerAsLowerdir(layer, applied);
    const again = await withOverlay(`lowerdir=${applied}:${lower}`, join(base, 'merged2'), () =>
      describeTree(join(base, 'merged2')),
    );
    expect(again).toEqual(view);
    expect(view).not.toContain('etc/gone');
    expect(view.filter((l) => l.startsWith('olddir'))).toEqual([
      'olddir/ dir 0750 0:0',
      'olddir/new file 0644 0:0 "new"',
    ]);
  });
});

describe('applyLayerAsLowerdir', () => {
  it('stacks three layers as overlay lowerdirs into the view of applying them in order', async () => {
    const base = join(tmp, 'stack');
    await mkdir(base, { recursive: true });
    const layers: LayerEntry[][] = [
      [
        dir('etc'),
        file('etc/a', 'a1'),
        file('etc/b', 'b1'),
        dir('data'),
        file('data/old1', 'o1'),
        dir('data/olddir'),
        file('data/olddir/o2', 'o2'),
        dir('keep', { mode: 0o700, uid: 1000, gid: 1000 }),
        file('keep/tool', 'tool', { mode: 0o4755 }),
        { path: 'keep/tool-link', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, linkname: 'keep/tool' },
        { path: 'keep/sym', type: 'symlink', mode: 0o777, uid: 1000, gid: 1000, linkname: '../etc/a' },
        { path: 'dev', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
        { path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, devmajor: 1, devminor: 3 },
        { path: 'dev/pipe', type: 'fifo', mode: 0o600, uid: 0, gid: 0 },
        file('etc/cap', 'cap', { xattrs: { 'user.note': Buffer.from([0, 1, 2, 255]) } }),
      ],
      [dir('etc'), file('etc/.wh.b', ''), file('etc/c', 'c2'), file('etc/a', 'a2')],
      [dir('data', { mode: 0o750 }), file('data/.wh..wh..opq', ''), file('data/new', 'n3')],
    ];
    const dirs: string[] = [];
    for (const [i, entries] of layers.entries()) {
      const path = join(base, `layer${i}.tar.gz`);
      await writeLayer(entries, path, { epoch: EPOCH });
      const d = join(base, `lower${i}`);
      await applyLayerAsLowerdir(path, d);
      dirs.push(d);
    }
    const xattrs = await readXattrs([join(dirs[2]!, 'data'), join(dirs[0]!, 'etc/cap')]);
    expect(xattrs.get(join(dirs[2]!, 'data'))?.['trusted.overlay.opaque']?.toString()).toBe('y');
    expect(xattrs.get(join(dirs[0]!, 'etc/cap'))?.['user.note']).toEqual(Buffer.from([0, 1, 2, 255]));
    const merged = join(base, 'merged');
    const view = await withOverlay(`lowerdir=${[...dirs].reverse().join(':')}`, merged, () => describeTree(merged));
    expect(view).toEqual([
      'data/ dir 0750 0:0',
      'data/new file 0644 0:0 "n3"',
      'dev/ dir 0755 0:0',
      `dev/null char ${(1 << 8) | 3} 0666 0:0`,
      'dev/pipe other 0600 0:0',
      'etc/ dir 0755 0:0',
      'etc/a file 0644 0:0 "a2"',
      'etc/c file 0644 0:0 "c2"',
      'etc/cap file 0644 0:0 "cap"',
      'keep/ dir 0700 1000:1000',
      'keep/sym -> ../etc/a 1000:1000',
      'keep/tool file 4755 0:0 "tool" nlink=2',
      'keep/tool-link file 4755 0:0 "tool" nlink=2',
    ]);
  });

  it('refuses entries that would escape the directory through a symlink', async () => {
    const base = join(tmp, 'escape');
    await mkdir(base, { recursive: true });
    const path = join(base, 'evil.tar.gz');
    await writeLayer(
      [{ path: 'up', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: '/tmp' }, file('up/pwned', 'x')],
      path,
      { epoch: EPOCH },
    );
    await expect(applyLayerAsLowerdir(path, join(base, 'out'))).rejects.toThrow(/not a directory/);

    // A hardlink through a symlinked parent would link a host file into the layer.
    const viaLink = join(base, 'evil-link.tar.gz');
    await writeLayer(
      [
        { path: 'host', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: '/etc' },
        { path: 'stolen', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkname: 'host/passwd' },
      ],
      viaLink,
      { epoch: EPOCH },
    );
    await expect(applyLayerAsLowerdir(viaLink, join(base, 'out2'))).rejects.toThrow(/not a directory/);
  });
});
