import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, readFile, stat, utimes, writeFile, link, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { Store, StoreError } from '../../core/src/store/index.js';
import { withExclusive } from '../../core/src/store/locks.js';
import { ls, useHome } from './helpers.js';

const home = useHome();
const sha = (data: Buffer | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('store location', () => {
  it('uses DRYDOCK_HOME, versioned, unless the root option overrides it', async () => {
    const store = await Store.open();
    expect(store.paths.base).toBe(join(home.dir, 'v1'));
    expect(await ls(store.paths.base)).toEqual(['blobs', 'index', 'locks', 'snapshots', 'tmp']);
    const other = await Store.open({ root: join(home.dir, 'elsewhere') });
    expect(other.paths.blobs).toBe(join(home.dir, 'elsewhere', 'v1', 'blobs', 'sha256'));
  });
});

describe('blobs', () => {
  it('putBlob twice gives one file named by its sha256', async () => {
    const store = await Store.open();
    const data = Buffer.from('hello blob');
    const first = await store.putBlob(data);
    const second = await store.putBlob(Readable.from([data]));
    expect(first).toEqual({ digest: sha(data), size: data.length });
    expect(second).toEqual(first);
    expect(await ls(store.paths.blobs)).toEqual([sha(data).slice('sha256:'.length)]);
    expect(await ls(store.paths.tmp)).toEqual([]);
    expect(await readFile(store.blobPath(first.digest))).toEqual(data);
    expect(await store.hasBlob(first.digest)).toBe(true);
    expect(await store.statBlob(first.digest)).toEqual(first);
  });

  it('adoptBlob moves a file the build wrote into the store without copying it; an existing blob wins', async () => {
    const store = await Store.open();
    const data = Buffer.from('a layer this process compressed');
    const file = join(store.paths.tmp, 'layer-adopt.tar.gz');
    await writeFile(file, data);
    const inode = (await stat(file)).ino;
    const info = await store.adoptBlob(file, sha(data));
    expect(info).toEqual({ digest: sha(data), size: data.length });
    expect((await stat(store.blobPath(info.digest))).ino).toBe(inode);
    expect((await stat(store.blobPath(info.digest))).mode & 0o777).toBe(0o444);
    expect(await text(store.readBlob(info.digest))).toBe(data.toString());
    const again = join(store.paths.tmp, 'layer-adopt-2.tar.gz');
    await writeFile(again, data);
    expect(await store.adoptBlob(again, sha(data))).toEqual(info);
    expect((await stat(store.blobPath(info.digest))).ino).toBe(inode);
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('skips the source when the expected digest is already stored', async () => {
    const store = await Store.open();
    const data = Buffer.from('known');
    await store.putBlob(data);
    let called = false;
    const again = await store.putBlob(
      () => {
        called = true;
        return Readable.from([data]);
      },
      { digest: sha(data) },
    );
    expect(called).toBe(false);
    expect(again).toEqual({ digest: sha(data), size: data.length });
  });

  it('rejects a wrong expected digest and leaves nothing in blobs/ or tmp/', async () => {
    const store = await Store.open();
    const error = await store.putBlob(Buffer.from('actual'), { digest: sha('other') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('EDIGEST');
    expect(await ls(store.paths.blobs)).toEqual([]);
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('rejects a wrong expected size (too long stops early, too short at the end)', async () => {
    const store = await Store.open();
    const data = Buffer.from('0123456789');
    await expect(store.putBlob(data, { size: 4 })).rejects.toMatchObject({ code: 'ESIZE' });
    await expect(store.putBlob(data, { size: 11 })).rejects.toMatchObject({ code: 'ESIZE' });
    expect(await ls(store.paths.blobs)).toEqual([]);
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('rejects malformed digests instead of touching paths outside the store', async () => {
    const store = await Store.open();
    expect(() => store.blobPath('sha256:../../etc/passwd')).toThrow(StoreError);
    await expect(store.hasBlob('md5:abc')).rejects.toMatchObject({ code: 'EINVAL' });
  });

  // readBlob streams; readBlobBytes reads a small blob whole: both verify the same way.
  const readers = {
    readBlob: (store: Store, digest: string) => text(store.readBlob(digest)),
    readBlobBytes: async (store: Store, digest: string) => (await store.readBlobBytes(digest)).toString('utf8'),
  };

  for (const [name, read] of Object.entries(readers)) {
    it(`${name} gives verified content`, async () => {
      const store = await Store.open();
      const { digest } = await store.putBlob(Buffer.from('verified'));
      expect(await read(store, digest)).toBe('verified');
    });

    it(`${name} of a corrupted blob fails with EDIGEST and removes it`, async () => {
      const store = await Store.open();
      const { digest } = await store.putBlob(Buffer.from('pristine'));
      const path = store.blobPath(digest);
      await chmod(path, 0o644);
      await writeFile(path, 'tampered');
      const error = await read(store, digest).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('EDIGEST');
      expect((error as StoreError).message).toBe(
        `blob ${digest} is corrupt (content is ${sha('tampered')}); removed it`,
      );
      expect(await store.hasBlob(digest)).toBe(false);
    });

    it(`${name} of a missing blob fails with ENOTFOUND`, async () => {
      const store = await Store.open();
      await expect(read(store, sha('absent'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    });
  }
});

describe('snapshots', () => {
  it('builds once into a complete dir and reuses it', async () => {
    const store = await Store.open();
    let builds = 0;
    const build = async (dir: string) => {
      builds++;
      await mkdir(join(dir, 'etc'));
      await writeFile(join(dir, 'etc', 'os-release'), 'ID=test\n', { mode: 0o640 });
      await link(join(dir, 'etc', 'os-release'), join(dir, 'hard'));
    };
    const path = await store.ensureSnapshot('layer1', build);
    expect(path).toBe(join(store.paths.snapshots, 'layer1'));
    expect(await store.ensureSnapshot('layer1', build)).toBe(path);
    expect(builds).toBe(1);
    expect((await stat(path)).mode & 0o777).toBe(0o755);
    expect((await stat(join(path, 'etc', 'os-release'))).mode & 0o777).toBe(0o640);
    const [a, b] = await Promise.all([lstat(join(path, 'etc', 'os-release')), lstat(join(path, 'hard'))]);
    expect(a.ino).toBe(b.ino);
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('keeps what the builder made: ownership, device nodes, trusted.overlay xattrs (root)', async () => {
    // The engine runs as root (DESIGN §4); this checks that publishing by rename loses nothing.
    const store = await Store.open();
    const path = await store.ensureSnapshot('rootfs', async (dir) => {
      await mkdir(join(dir, 'opaque'));
      execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(dir, 'opaque')]);
      execFileSync('mknod', [join(dir, 'null'), 'c', '1', '3']);
      await writeFile(join(dir, 'owned'), 'x');
      await chown(join(dir, 'owned'), 1234, 5678);
    });
    const xattr = execFileSync('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', join(path, 'opaque')]);
    expect(xattr.toString()).toBe('y');
    const dev = await lstat(join(path, 'null'));
    expect(dev.isCharacterDevice()).toBe(true);
    expect(dev.rdev).toBe((1 << 8) | 3);
    const owned = await lstat(join(path, 'owned'));
    expect([owned.uid, owned.gid]).toEqual([1234, 5678]);
    await store.prune({ keep: () => new Set() });
    expect(await ls(store.paths.snapshots)).toEqual([]);
  });

  it('a failing build leaves no snapshot and no tmp entry, and the error propagates', async () => {
    const store = await Store.open();
    const boom = new Error('build failed');
    await expect(
      store.ensureSnapshot('broken', async (dir) => {
        await writeFile(join(dir, 'half'), 'x');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await ls(store.paths.snapshots)).toEqual([]);
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('concurrent calls in one process build once', async () => {
    const store = await Store.open();
    let builds = 0;
    const build = async (dir: string) => {
      builds++;
      await writeFile(join(dir, 'f'), 'x');
    };
    const paths = await Promise.all([1, 2, 3].map(() => store.ensureSnapshot('same', build)));
    expect(new Set(paths).size).toBe(1);
    expect(builds).toBe(1);
  });

  it('marks a snapshot as not yet on disk instead of flushing it; settling flushes and drops the marks', async () => {
    const store = await Store.open();
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const path = await store.ensureSnapshot('fresh', async (dir) => writeFile(join(dir, 'f'), 'x'));
    expect(await ls(join(store.paths.unsynced, boot))).toEqual(['fresh']);
    expect(await store.settleSnapshots()).toBe(1);
    expect(await ls(join(store.paths.unsynced, boot))).toEqual([]);
    expect(await readFile(join(path, 'f'), 'utf8')).toBe('x');
    expect(await store.settleSnapshots()).toBe(0);
  });

  it('builds again a snapshot marked in another boot (a power loss may have torn it), once', async () => {
    const store = await Store.open();
    // What a crash leaves: the snapshot renamed into place, its data never flushed, its mark.
    await mkdir(join(store.paths.snapshots, 'torn'), { recursive: true });
    await writeFile(join(store.paths.snapshots, 'torn', 'f'), '');
    await mkdir(join(store.paths.unsynced, 'an-earlier-boot'), { recursive: true });
    await writeFile(join(store.paths.unsynced, 'an-earlier-boot', 'torn'), '');
    let builds = 0;
    const build = async (dir: string) => {
      builds++;
      await writeFile(join(dir, 'f'), 'whole');
    };
    const path = await store.ensureSnapshot('torn', build);
    expect(await readFile(join(path, 'f'), 'utf8')).toBe('whole');
    expect(await ls(store.paths.unsynced)).not.toContain('an-earlier-boot');
    await store.ensureSnapshot('torn', build);
    expect(builds).toBe(1);
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('prune drops the marks of the snapshots it removes', async () => {
    const store = await Store.open();
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    await store.ensureSnapshot('doomed', async (dir) => writeFile(join(dir, 'f'), 'x'));
    await store.prune({ keep: () => new Set() });
    expect(await ls(join(store.paths.unsynced, boot))).toEqual([]);
  });

  it('adopts a complete tree as a snapshot; an existing one wins and the tree is removed', async () => {
    const store = await Store.open();
    const tree = async (name: string, content: string): Promise<string> => {
      const dir = join(store.paths.tmp, name);
      await mkdir(dir);
      await writeFile(join(dir, 'f'), content);
      return dir;
    };
    const path = await store.adoptSnapshot('adopted', await tree('first', 'one'));
    expect(path).toBe(join(store.paths.snapshots, 'adopted'));
    expect(await readFile(join(path, 'f'), 'utf8')).toBe('one');
    expect(await store.adoptSnapshot('adopted', await tree('second', 'same, by construction'))).toBe(path);
    expect(await readFile(join(path, 'f'), 'utf8')).toBe('one');
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('adopting over a snapshot marked in another boot replaces it', async () => {
    const store = await Store.open();
    await mkdir(join(store.paths.snapshots, 'stale'), { recursive: true });
    await writeFile(join(store.paths.snapshots, 'stale', 'f'), '');
    await mkdir(join(store.paths.unsynced, 'an-earlier-boot'), { recursive: true });
    await writeFile(join(store.paths.unsynced, 'an-earlier-boot', 'stale'), '');
    const dir = join(store.paths.tmp, 'fresh');
    await mkdir(dir);
    await writeFile(join(dir, 'f'), 'whole');
    const path = await store.adoptSnapshot('stale', dir);
    expect(await readFile(join(path, 'f'), 'utf8')).toBe('whole');
    expect(await ls(store.paths.unsynced)).not.toContain('an-earlier-boot');
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('rejects ids that are not a single path component', async () => {
    const store = await Store.open();
    for (const id of ['../x', 'a/b', '.', '..', '']) {
      await expect(store.ensureSnapshot(id, async () => {})).rejects.toMatchObject({ code: 'EINVAL' });
    }
  });
});

describe('cache records', () => {
  it('round-trip, list, and overwrite', async () => {
    const store = await Store.open();
    expect(await store.getRecord('k1')).toBeUndefined();
    await store.putRecord('k1', { layer: 'sha256:abc', n: 1 });
    await store.putRecord('sha256:/weird key', [1, 2]);
    expect(await store.getRecord('k1')).toEqual({ layer: 'sha256:abc', n: 1 });
    await store.putRecord('k1', { n: 2 });
    expect(await store.getRecord('k1')).toEqual({ n: 2 });
    const records = await store.listRecords();
    expect(records.map((r) => r.key).sort()).toEqual(['k1', 'sha256:/weird key']);
    expect(await ls(store.paths.tmp)).toEqual([]);
  });

  it('keepRecord writes a record the first time and only marks it used after', async () => {
    const store = await Store.open();
    let built = 0;
    const value = () => ({ blobs: ['sha256:abc'], n: ++built });
    await store.keepRecord('pull:x', value);
    const [first] = await store.listRecords();
    await new Promise((r) => setTimeout(r, 20));
    await store.keepRecord('pull:x', value);
    const [again] = await store.listRecords();
    expect(built).toBe(1);
    expect(await store.getRecord('pull:x')).toEqual({ blobs: ['sha256:abc'], n: 1 });
    expect(again!.usedAt).toBeGreaterThan(first!.usedAt!);
  });

  it('remembers the records it read or wrote, and touches each at most once a minute', async () => {
    const store = await Store.open();
    await store.putRecord('k', { layer: 1 });
    const [file] = await ls(store.paths.index);
    const path = join(store.paths.index, file!);
    const old = new Date('2026-01-01T00:00:00Z');
    await utimes(path, old, old);
    expect(await store.touchRecord('k')).toBe(true);
    expect((await stat(path)).mtimeMs).toBe(old.getTime());
    const other = await Store.open();
    expect(await other.getRecord('k')).toEqual({ layer: 1 });
    expect(await other.touchRecord('k')).toBe(true);
    expect((await stat(path)).mtimeMs).toBeGreaterThan(old.getTime());
    // What prune removes is forgotten too.
    await store.prune({ keep: () => new Set(), dropRecord: () => true });
    expect(await store.getRecord('k')).toBeUndefined();
  });

  it('a corrupt record reads as absent, is removed, and is reported as a warning', async () => {
    const warnings: string[] = [];
    const store = await Store.open({ onWarning: (w) => warnings.push(w.code) });
    await store.putRecord('k', { ok: true });
    const [file] = await ls(store.paths.index);
    await writeFile(join(store.paths.index, file!), '{"format":1,"key":"k","val');
    // The store that wrote it remembers it; another process reads what is on disk.
    expect(await store.getRecord('k')).toEqual({ ok: true });
    const other = await Store.open({ onWarning: (w) => warnings.push(w.code) });
    expect(await other.getRecord('k')).toBeUndefined();
    expect(warnings).toEqual(['ECORRUPTRECORD']);
    expect(other.warnings).toHaveLength(1);
    expect(await ls(store.paths.index)).toEqual([]);
    expect(await store.listRecords()).toEqual([]);
  });
});

describe('locks', () => {
  it('withLock serializes critical sections', async () => {
    const store = await Store.open();
    const events: string[] = [];
    const section = (name: string) =>
      store.withLock('shared-name', async () => {
        events.push(`${name}:in`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`${name}:out`);
      });
    await Promise.all([section('a'), section('b')]);
    expect(events[0]!.split(':')[0]).toBe(events[1]!.split(':')[0]);
    expect(events.map((e) => e.split(':')[1])).toEqual(['in', 'out', 'in', 'out']);
  });

  it('a build that starts while prune holds the store waits for prune, then runs', async () => {
    const store = await Store.open();
    const events: string[] = [];
    let finishPrune!: () => void;
    let pruning!: () => void;
    const started = new Promise<void>((r) => (pruning = r));
    const prune = withExclusive({ dir: store.paths.locks, staleMs: 10_000 }, 'gc', async () => {
      events.push('prune:in');
      pruning();
      await new Promise<void>((r) => (finishPrune = r));
      events.push('prune:out');
    });
    await started;
    const build = store.withBuild(async () => {
      events.push('build');
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toEqual(['prune:in']);
    finishPrune();
    await Promise.all([prune, build]);
    expect(events).toEqual(['prune:in', 'prune:out', 'build']);
  });

  it('prune waits for the lease of a build of this process, taken at once', async () => {
    const store = await Store.open();
    const events: string[] = [];
    let finishBuild!: () => void;
    const build = store.withBuild(async () => {
      events.push('build:in');
      await new Promise<void>((r) => (finishBuild = r));
      events.push('build:out');
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(['build:in']);
    const other = await Store.open();
    const prune = other.prune({ keep: () => new Set() }).then(() => events.push('prune'));
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toEqual(['build:in']);
    finishBuild();
    await Promise.all([build, prune]);
    expect(events).toEqual(['build:in', 'build:out', 'prune']);
  });

  it('prune inside withBuild of the same store is refused instead of deadlocking', async () => {
    const store = await Store.open();
    await store.withBuild(async () => {
      await expect(store.prune({ keep: () => new Set() })).rejects.toMatchObject({ code: 'EBUSY' });
    });
  });
});

describe('prune and usage', () => {
  it('removes exactly the unreferenced blobs, snapshots and stale tmp entries; dryRun removes nothing', async () => {
    const store = await Store.open();
    const kept = await store.putBlob(Buffer.from('kept'));
    const dropped = await store.putBlob(Buffer.from('dropped!'));
    await store.ensureSnapshot('keep-snap', async (dir) => writeFile(join(dir, 'a'), 'aaaa'));
    await store.ensureSnapshot('drop-snap', async (dir) => {
      await mkdir(join(dir, 'ro'));
      await writeFile(join(dir, 'ro', 'b'), 'bbbbbb');
      await chmod(join(dir, 'ro'), 0o555); // read-only dirs must not stop deletion
    });
    await store.putRecord('step', { blob: kept.digest, snapshot: 'keep-snap' });
    const oldTmp = join(store.paths.tmp, 'blob-old');
    const newTmp = join(store.paths.tmp, 'blob-new');
    await writeFile(oldTmp, '123');
    await writeFile(newTmp, '45');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(oldTmp, twoHoursAgo, twoHoursAgo);

    const keep = (records: { value: unknown }[]) =>
      new Set(records.flatMap((r) => Object.values(r.value as Record<string, string>)));
    const expected = {
      removedRecords: [],
      removedBlobs: [dropped.digest],
      removedSnapshots: ['drop-snap'],
      removedTmp: ['blob-old'],
      freedBytes: dropped.size + 6 + 3,
    };

    const before = await store.usage();
    expect(before.blobs).toEqual({ count: 2, bytes: kept.size + dropped.size });
    expect(before.snapshots).toEqual({ count: 2, bytes: 4 + 6 });
    expect(before.records.count).toBe(1);
    expect(before.tmp).toEqual({ count: 2, bytes: 5 });

    expect(await store.prune({ keep, dryRun: true })).toEqual(expected);
    expect(await store.usage()).toEqual(before);

    expect(await store.prune({ keep })).toEqual(expected);
    expect(await ls(store.paths.blobs)).toEqual([kept.digest.slice(7)]);
    expect(await ls(store.paths.snapshots)).toEqual(['keep-snap']);
    expect(await ls(store.paths.tmp)).toEqual(['blob-new']);
    const after = await store.usage();
    expect(after.blobs).toEqual({ count: 1, bytes: kept.size });
    expect(after.totalBytes).toBe(before.totalBytes - expected.freedBytes);
  });
});
