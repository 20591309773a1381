import { createReadStream } from 'node:fs';
import { chmod, chown, mkdir, readFile, symlink, link, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entriesFromDirectory, readTar, writeLayer, type LayerEntry } from '../../core/src/oci/index.js';
import { fileEntry as text, removeDir, sh, tempDir } from './helpers.js';

const EPOCH = 1_700_000_000;
let tmp = '';
beforeAll(async () => {
  tmp = await tempDir('layer');
});
afterAll(() => removeDir(tmp));

const sample = (): LayerEntry[] => [
  text('etc/motd', 'hello\n', { mtime: 1 }),
  { path: 'etc', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
  { path: 'bin/sh', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: 'busybox' },
  { path: 'bin', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
  text('bin/busybox', 'not really busybox', { mode: 0o4755 }),
  { path: 'bin/ls', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, linkname: 'bin/busybox' },
  { path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, devmajor: 1, devminor: 3 },
  { path: 'dev', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
  text(`deep/${'d'.repeat(120)}/${'f'.repeat(120)}`, 'long path'),
  text('caf\u00e9/\u00fcnicode.txt', 'non-ascii'),
  text('home/app/data', 'owned', { uid: 1000, gid: 3_000_000, mtime: EPOCH + 999 }),
  text('usr/bin/ping', 'caps', { xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0]) } }),
];

async function layerDigests(entries: LayerEntry[] | AsyncIterable<LayerEntry>, name: string) {
  return writeLayer(entries, join(tmp, name), { epoch: EPOCH });
}

async function listTar(file: string) {
  const out = [];
  for await (const { header, body } of readTar(createReadStream(file).pipe(createGunzip()))) {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c);
    out.push({ ...header, content: Buffer.concat(chunks).toString() });
  }
  return out;
}

describe('writeLayer', () => {
  it('gives byte-identical output for the same entries in any order, and a pinned digest', async () => {
    const a = await layerDigests(sample(), 'a.tar.gz');
    const b = await layerDigests(sample().reverse(), 'b.tar.gz');
    async function* lazily() {
      yield* sample();
    }
    const c = await layerDigests(lazily(), 'c.tar.gz');
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(await readFile(join(tmp, 'b.tar.gz'))).toEqual(await readFile(join(tmp, 'a.tar.gz')));
    // Pinned: a change here means layers built by another drydock version (or machine) would differ.
    expect(a.diffId).toBe('sha256:fa901ae42b4728670b5e755add9c9ec9d752de3bb55cd937b086ba45522e3356');
    // The gzip is standard: gzip(1) decompresses it to exactly the tar the diffID names.
    const tarSha = await sh('sh', ['-c', `gzip -dc ${join(tmp, 'a.tar.gz')} | sha256sum`]);
    expect(`sha256:${tarSha.split(' ')[0]}`).toBe(a.diffId);
    expect(a.digest).toBe('sha256:207aad089ff0def80a774341b8533aa0c482a541316e4b079433c092deea53d1');
  });

  it('writes headers GNU tar reads back: types, modes, owners, long and non-ASCII paths, clamped mtimes', async () => {
    await layerDigests(sample(), 'gnu.tar.gz');
    const listing = await sh('tar', ['--numeric-owner', '--full-time', '-tvzf', join(tmp, 'gnu.tar.gz')]);
    const lines = listing.trim().split('\n');
    expect(lines[0]).toMatch(/^drwxr-xr-x 0\/0 +0 2023-11-14 22:13:20 bin\/$/);
    expect(listing).toContain('-rwsr-xr-x 0/0              18 2023-11-14 22:13:20 bin/busybox');
    expect(listing).toMatch(/hrwsr-xr-x 0\/0 +0 2023-11-14 22:13:20 bin\/ls link to bin\/busybox/);
    expect(listing).toMatch(/lrwxrwxrwx 0\/0 +0 2023-11-14 22:13:20 bin\/sh -> busybox/);
    expect(listing).toMatch(/crw-rw-rw- 0\/0 +1,3 2023-11-14 22:13:20 dev\/null/);
    expect(listing).toMatch(/-rw-r--r-- 0\/0 +6 1970-01-01 00:00:01 etc\/motd/);
    expect(listing).toContain(`deep/${'d'.repeat(120)}/${'f'.repeat(120)}`);
    expect(listing).toContain('caf\u00e9/\u00fcnicode.txt');
    expect(listing).toMatch(/-rw-r--r-- 1000\/3000000 +5 2023-11-14 22:13:20 home\/app\/data/);
    // bytewise order: "bin/" < "caf\u00e9" < "deep" < "dev" < ... parents before children
    const names = lines.map((l) => l.split(/\s+/)[5]);
    expect(names.slice(0, 5)).toEqual(['bin/', 'bin/busybox', 'bin/ls', 'bin/sh', 'caf\u00e9/\u00fcnicode.txt']);
    const entries = await listTar(join(tmp, 'gnu.tar.gz'));
    const ping = entries.find((e) => e.path === 'usr/bin/ping')!;
    expect(ping.xattrs['security.capability']).toEqual(Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0]));
    expect(entries.find((e) => e.path === 'home/app/data')).toMatchObject({
      uid: 1000,
      gid: 3_000_000,
      content: 'owned',
    });
    // No host user or group names, no atime/ctime records.
    const raw = await sh('sh', ['-c', `gzip -dc ${join(tmp, 'gnu.tar.gz')} | strings`]);
    expect(raw).not.toMatch(/root|atime|ctime/);
  });

  it('does not depend on host umask, mtimes or file owners when the caller sets ownership', async () => {
    const make = async (root: string, umask: number, mtime: number, owner: number) => {
      const old = process.umask(umask);
      try {
        await mkdir(join(root, 'app/sub'), { recursive: true });
        await writeFile(join(root, 'app/a.txt'), 'A');
        await writeFile(join(root, 'app/sub/b.sh'), '#!/bin/sh\n');
        await symlink('sub/b.sh', join(root, 'app/run'));
        await link(join(root, 'app/a.txt'), join(root, 'app/a-link.txt'));
      } finally {
        process.umask(old);
      }
      // Modes are what the build says (like COPY --chmod), so set them; everything else differs.
      for (const [p, m] of [
        ['app', 0o755],
        ['app/sub', 0o755],
        ['app/a.txt', 0o644],
        ['app/sub/b.sh', 0o755],
      ] as const) {
        await chmod(join(root, p), m);
        await chown(join(root, p), owner, owner);
        await utimes(join(root, p), mtime, mtime);
      }
    };
    const one = join(tmp, 'tree1');
    const two = join(tmp, 'tree2');
    await make(one, 0o022, 1_000_000, 0);
    await make(two, 0o077, 1_900_000_000, 4242);
    const owner = { uid: 10, gid: 20 };
    const l1 = await layerDigests(await entriesFromDirectory(one, { owner }), 'tree1.tar.gz');
    const l2 = await layerDigests(await entriesFromDirectory(two, { owner }), 'tree2.tar.gz');
    expect(l2.digest).toBe(l1.digest);
    const entries = await listTar(join(tmp, 'tree1.tar.gz'));
    expect(entries.map((e) => `${e.path} ${e.type} ${e.linkname} ${e.uid}:${e.gid} ${e.mtime}`)).toEqual([
      `app dir  10:20 ${EPOCH}`,
      `app/a-link.txt file  10:20 ${EPOCH}`,
      `app/a.txt hardlink app/a-link.txt 10:20 ${EPOCH}`,
      `app/run symlink sub/b.sh 10:20 ${EPOCH}`,
      `app/sub dir  10:20 ${EPOCH}`,
      `app/sub/b.sh file  10:20 ${EPOCH}`,
    ]);
    // Without an owner override, the files' own owners go in (the caller decides).
    const own = await entriesFromDirectory(two);
    expect(own.find((e) => e.path === 'app/a.txt')).toMatchObject({ uid: 4242, gid: 4242 });
  });

  it('puts the content of a hardlink group on its first path in canonical order', async () => {
    // The caller names the later path as the target; extractors need the earlier one to exist first.
    const entries: LayerEntry[] = [
      text('app/z-target', 'shared', { mode: 0o755 }),
      { path: 'app/a-link', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkname: 'app/z-target' },
      { path: 'app/m-link', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkname: 'app/a-link' },
    ];
    await layerDigests(entries, 'links.tar.gz');
    const listed = await listTar(join(tmp, 'links.tar.gz'));
    expect(listed.map((e) => `${e.path} ${e.type} ${e.linkname} ${e.mode.toString(8)} ${e.content}`)).toEqual([
      'app/a-link file  755 shared',
      'app/m-link hardlink app/a-link 755 ',
      'app/z-target hardlink app/a-link 755 ',
    ]);
    const out = join(tmp, 'links-out');
    await mkdir(out);
    await sh('tar', ['-xzf', join(tmp, 'links.tar.gz'), '-C', out]);
    expect(await readFile(join(out, 'app/z-target'), 'utf8')).toBe('shared');
  });

  it('fails when a file does not have the size it promised', async () => {
    const bad = text('x', 'four', { size: 5 });
    await expect(writeLayer([bad], join(tmp, 'bad.tar.gz'), { epoch: EPOCH })).rejects.toThrow(/expected 5 bytes/);
    await expect(writeLayer([text('../x', '')], join(tmp, 'bad2.tar.gz'), { epoch: EPOCH })).rejects.toThrow(
      /invalid layer path/,
    );
  });
});
