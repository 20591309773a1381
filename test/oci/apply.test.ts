import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  chown,
  link,
  lchown,
  lstat,
  mkdir,
  readFile,
  readlink,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyLayerAsLowerdir,
  applyLayerStreamAsLowerdir,
  entriesFromDirectory,
  layerXattrs,
  lowerdirWriter,
  readXattrs,
  writeLayer,
} from '../../core/src/oci/index.js';
import { isRoot, noise, removeDir, sh, tempDir } from './helpers.js';
import { walkTree } from './walk-tree.js';

// applyLayerAsLowerdir against GNU tar: for a layer without whiteouts, the lowerdir is exactly what
// `tar -xp` extracts, down to owners, modes, mtimes, links, devices and xattrs.

let tmp = '';
beforeAll(async () => {
  if (!isRoot()) throw new Error('test/oci/apply.test.ts needs root (owners, mknod)');
  tmp = await tempDir('apply');
});
afterAll(() => removeDir(tmp));

const MTIME = 1_650_000_000;

/** A tree with one of everything a layer can hold, metadata set explicitly. */
async function makeSource(src: string): Promise<void> {
  const longDir = `${'d'.repeat(120)}/${'e'.repeat(90)}`;
  for (const d of ['etc', 'bin', 'home/app', 'ro', 'dev', longDir, 'caf\u00e9']) {
    await mkdir(join(src, d), { recursive: true });
  }
  await writeFile(join(src, 'etc/motd'), 'hello\n');
  await writeFile(join(src, 'etc/empty'), '');
  await writeFile(join(src, 'bin/tool'), noise(3_000_000, 'tool'));
  await writeFile(join(src, 'bin/block'), noise(4096, 'block')); // a multiple of 512: no padding
  await link(join(src, 'bin/tool'), join(src, 'bin/tool-link'));
  await symlink('tool', join(src, 'bin/sym'));
  await symlink('/etc/motd', join(src, 'home/app/abs-sym'));
  await writeFile(join(src, 'home/app/data'), 'owned');
  await writeFile(join(src, longDir, 'f'.repeat(100)), 'long');
  await writeFile(join(src, 'caf\u00e9/\u00fcnicode'), 'non-ascii');
  await writeFile(join(src, 'ro/file'), 'in a read-only dir');
  await sh('mknod', [join(src, 'dev/null'), 'c', '1', '3']);
  await sh('mknod', [join(src, 'dev/pipe'), 'p']);
  await sh('setfattr', ['-n', 'user.bin', '-v', '0x00ff0a00', join(src, 'bin/tool')]);
  await chmod(join(src, 'bin/tool'), 0o4755);
  await chmod(join(src, 'dev/pipe'), 0o600);
  await chown(join(src, 'home/app/data'), 1000, 3_000_000);
  await lchown(join(src, 'home/app/abs-sym'), 1000, 1000);
  await chown(join(src, 'home/app'), 1000, 1000);
  await chmod(join(src, 'home/app'), 0o700);
  for (const path of await walkTree(src)) {
    const st = await lstat(join(src, path));
    if (!st.isSymbolicLink()) await utimes(join(src, path), MTIME, MTIME + 1);
  }
  await chmod(join(src, 'ro'), 0o555);
  await utimes(join(src, 'ro'), MTIME, MTIME);
}

/** Everything about a tree that extraction must reproduce, one line per path. */
async function snapshot(root: string): Promise<string[]> {
  const paths = await walkTree(root);
  const xattrs = await readXattrs(paths.map((p) => join(root, p)));
  const lines: string[] = [];
  for (const path of paths) {
    const abs = join(root, path);
    const st = await lstat(abs);
    const mode = (st.mode & 0o7777).toString(8);
    let what = '';
    if (st.isFile())
      what = `file ${createHash('sha256')
        .update(await readFile(abs))
        .digest('hex')} nlink=${st.nlink}`;
    else if (st.isSymbolicLink()) what = `symlink ${await readlink(abs)}`;
    else if (st.isDirectory()) what = 'dir';
    else what = `${st.isFIFO() ? 'fifo' : 'dev'} ${st.rdev}`;
    const attrs = Object.entries(xattrs.get(abs) ?? {}).map(([k, v]) => `${k}=${v.toString('hex')}`);
    const mtime = Math.floor(st.mtimeMs / 1000);
    lines.push(`${path} ${what} ${st.isSymbolicLink() ? '' : mode} ${st.uid}:${st.gid} ${mtime} ${attrs.join(',')}`);
  }
  return lines;
}

describe('applyLayerAsLowerdir', () => {
  it('extracts a layer made by GNU tar exactly as `tar -xp` does, gzip or not', async () => {
    const src = join(tmp, 'src');
    await makeSource(src);
    const layer = join(tmp, 'layer.tar');
    // `-C src .`: entries named `./x`, and `./` itself, as docker import and many tools write them.
    await sh('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-cf', layer, '-C', src, '.']);
    await sh('gzip', ['-k', layer]);
    const gnu = join(tmp, 'gnu');
    await mkdir(gnu);
    await sh('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', layer, '-C', gnu]);
    const expected = await snapshot(gnu);
    expect(expected.length).toBeGreaterThan(15);
    expect(expected).toContain(`ro dir 555 0:0 ${MTIME} `);

    await applyLayerAsLowerdir(`${layer}.gz`, join(tmp, 'from-gzip'));
    expect(await snapshot(join(tmp, 'from-gzip'))).toEqual(expected);
    await applyLayerAsLowerdir(layer, join(tmp, 'from-tar'));
    expect(await snapshot(join(tmp, 'from-tar'))).toEqual(expected);
  });

  it('gives the xattrs it set, each as getfattr reads it back, opaque marks included', async () => {
    const src = join(tmp, 'xattr-src');
    await makeSource(src);
    await sh('setfattr', ['-n', 'user.dir', '-v', 'on-a-dir', join(src, 'etc')]);
    // An opaque whiteout for etc/: overlay's trusted.overlay.opaque=y on the extracted directory.
    await writeFile(join(src, 'etc/.wh..wh..opq'), '');
    const layer = join(tmp, 'xattr-layer.tar');
    await sh('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-cf', layer, '-C', src, '.']);
    const out = join(tmp, 'xattr-out');
    const given = await applyLayerAsLowerdir(layer, out);
    const paths = ['', ...(await walkTree(out))];
    const read = await readXattrs(paths.map((p) => (p ? join(out, p) : out)));
    const asRead = new Map(
      paths.flatMap((p) => (read.has(p ? join(out, p) : out) ? [[p, read.get(p ? join(out, p) : out)!]] : [])),
    );
    expect([...given.keys()].sort()).toEqual(['bin/tool', 'bin/tool-link', 'etc']);
    expect(given).toEqual(asRead);
    expect(given.get('etc')!['trusted.overlay.opaque']!.toString()).toBe('y');
  });

  it('lets a later entry replace an earlier one of the same path, as tar does', async () => {
    const base = join(tmp, 'replace');
    for (const d of ['one/d', 'one/f', 'two']) await mkdir(join(base, d), { recursive: true });
    await writeFile(join(base, 'one/d/x'), 'x');
    await writeFile(join(base, 'two/d'), 'now a file');
    await mkdir(join(base, 'two/f'));
    await writeFile(join(base, 'two/f/y'), 'y');
    await writeFile(join(base, 'one/f/z'), 'z');
    await writeFile(join(base, 'one/g'), 'first');
    await writeFile(join(base, 'two/g'), 'second');
    // One archive naming d, f and g twice: d a directory then a file, f a directory then a directory.
    const layer = join(base, 'layer.tar');
    await sh('tar', ['-cf', layer, '-C', join(base, 'one'), 'd', 'f', 'g']);
    await sh('tar', ['-rf', layer, '-C', join(base, 'two'), 'd', 'f', 'g']);
    const out = join(base, 'out');
    await applyLayerAsLowerdir(layer, out);
    expect(await walkTree(out)).toEqual(['d', 'f', 'f/y', 'f/z', 'g']);
    expect(await readFile(join(out, 'd'), 'utf8')).toBe('now a file');
    expect(await readFile(join(out, 'g'), 'utf8')).toBe('second');
  });

  it("keeps only the last entry's metadata and xattrs for a path given twice (merged for two directories)", async () => {
    const base = join(tmp, 'replace-meta');
    for (const d of ['one/d', 'one/e', 'two/d']) await mkdir(join(base, d), { recursive: true });
    await writeFile(join(base, 'one/x'), 'first x');
    await writeFile(join(base, 'two/x'), 'second x');
    await writeFile(join(base, 'two/e'), 'now a file');
    await sh('setfattr', ['-n', 'user.old', '-v', 'gone', join(base, 'one/x')]);
    await sh('setfattr', ['-n', 'user.kept', '-v', 'first', join(base, 'one/d')]);
    await sh('setfattr', ['-n', 'user.added', '-v', 'second', join(base, 'two/d')]);
    await chmod(join(base, 'one/d'), 0o700);
    await chmod(join(base, 'two/d'), 0o751);
    await chmod(join(base, 'one/e'), 0o700);
    await chmod(join(base, 'two/e'), 0o640);
    await utimes(join(base, 'two/e'), MTIME, MTIME);
    const layer = join(base, 'layer.tar');
    const tar = ['--format=posix', '--xattrs', '--xattrs-include=*'];
    await sh('tar', [...tar, '-cf', layer, '-C', join(base, 'one'), 'd', 'e', 'x']);
    await sh('tar', [...tar, '-rf', layer, '-C', join(base, 'two'), 'd', 'e', 'x']);
    const out = join(base, 'out');
    const given = await applyLayerAsLowerdir(layer, out);
    // d: the second header's mode; both entries' xattrs (tar sets, it does not clear).
    expect((await lstat(join(out, 'd'))).mode & 0o7777).toBe(0o751);
    // e: a directory, then a file: nothing of the directory's header applies to the file.
    const e = await lstat(join(out, 'e'));
    expect([e.isFile(), e.mode & 0o7777, Math.floor(e.mtimeMs / 1000)]).toEqual([true, 0o640, MTIME]);
    // x: the first file's xattr went with it.
    const read = await readXattrs([join(out, 'd'), join(out, 'x')]);
    expect(read.get(join(out, 'x'))).toBeUndefined();
    expect(read.get(join(out, 'd'))).toEqual({
      'user.added': Buffer.from('second'),
      'user.kept': Buffer.from('first'),
    });
    expect(given).toEqual(new Map([['d', read.get(join(out, 'd'))]]));
  });

  it('refuses entries below a path that an earlier entry replaced with a file', async () => {
    const base = join(tmp, 'below-file');
    for (const d of ['one/d', 'two', 'three/d']) await mkdir(join(base, d), { recursive: true });
    await writeFile(join(base, 'two/d'), 'a file');
    await writeFile(join(base, 'three/d/late'), 'x');
    const layer = join(base, 'layer.tar');
    await sh('tar', ['-cf', layer, '-C', join(base, 'one'), 'd']);
    await sh('tar', ['-rf', layer, '-C', join(base, 'two'), 'd']);
    await sh('tar', ['-rf', layer, '-C', join(base, 'three'), 'd/late']);
    await expect(applyLayerAsLowerdir(layer, join(base, 'out'))).rejects.toThrow(
      /d\/late lies below d, which is not a directory/,
    );
  });

  it('only extracts into an empty directory', async () => {
    const base = join(tmp, 'not-empty');
    await mkdir(join(base, 'out'), { recursive: true });
    await writeFile(join(base, 'out/stale'), '');
    await writeFile(join(base, 'a'), 'a');
    await sh('tar', ['-cf', join(base, 'layer.tar'), '-C', base, 'a']);
    await expect(applyLayerAsLowerdir(join(base, 'layer.tar'), join(base, 'out'))).rejects.toThrow(/is not empty/);
  });
});

describe('lowerdirWriter fed by writeLayer (a snapshot made while its layer is written)', () => {
  it('makes the very tree that extracting the written blob makes', async () => {
    const src = join(tmp, 'tee-src');
    await makeSource(src);
    const blob = join(tmp, 'tee.tar.gz');
    const teed = join(tmp, 'tee-snapshot');
    const writer = lowerdirWriter(teed, 'tee');
    const entries = await entriesFromDirectory(src, { xattrs: true });
    await writeLayer(entries, blob, { epoch: MTIME, onTar: (chunk) => writer.push(chunk) });
    const set = await writer.finish();
    // What the entries say of xattrs (what a teed snapshot is declared with) is what was set.
    expect(layerXattrs(entries)).toEqual(set);
    expect([...set.keys()].sort()).toEqual(['bin/tool', 'bin/tool-link']);
    await applyLayerAsLowerdir(blob, join(tmp, 'tee-extracted'));
    const extracted = await snapshot(join(tmp, 'tee-extracted'));
    expect(extracted.length).toBeGreaterThan(15);
    expect(extracted.some((line) => line.startsWith('bin/tool file ') && line.includes('user.bin=00ff0a00'))).toBe(
      true,
    );
    expect(await snapshot(teed)).toEqual(extracted);
  });

  it('rejects a malformed tar as soon as it is pushed', async () => {
    const writer = lowerdirWriter(join(tmp, 'tee-bad'), 'bad');
    const header = Buffer.alloc(512, 0x41); // not a tar header: its checksum cannot match
    expect(() => writer.push(header)).toThrow();
  });
});

describe('applyLayerStreamAsLowerdir (a layer as it downloads)', () => {
  async function layer(): Promise<{ tar: string; gz: string; diffId: string; src: string }> {
    const src = join(tmp, 'stream-src');
    await mkdir(join(src, 'etc'), { recursive: true });
    await writeFile(join(src, 'etc', 'hello'), 'hello from a stream\n');
    const tar = join(tmp, 'stream.tar');
    await sh('tar', ['--numeric-owner', '-cf', tar, '-C', src, 'etc']);
    await sh('sh', ['-c', `gzip -c '${tar}' > '${tar}.gz'`]);
    return {
      tar,
      gz: `${tar}.gz`,
      diffId: `sha256:${createHash('sha256')
        .update(await readFile(tar))
        .digest('hex')}`,
      src,
    };
  }

  it('extracts gzip and plain streams alike, told apart by their first bytes', async () => {
    const l = await layer();
    for (const [name, file] of [
      ['gz', l.gz],
      ['plain', l.tar],
    ] as const) {
      const dir = join(tmp, `stream-${name}`);
      await applyLayerStreamAsLowerdir(createReadStream(file), dir, l.diffId, name);
      expect(await readFile(join(dir, 'etc', 'hello'), 'utf8')).toBe('hello from a stream\n');
    }
  });

  it('fails when the tar is not the diff_id the image names', async () => {
    const l = await layer();
    const wrong = `sha256:${'0'.repeat(64)}`;
    await expect(
      applyLayerStreamAsLowerdir(createReadStream(l.gz), join(tmp, 'stream-wrong'), wrong, 'x'),
    ).rejects.toThrow(/the image config says sha256:0{64}/);
  });
});
