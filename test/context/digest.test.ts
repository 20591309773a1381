/**
 * Selection digests and the persistent stat cache: content, mode and link targets count; mtime,
 * uid/gid and ignored files do not; a cache loaded anew from disk lets an unchanged context be
 * hashed without reading a file, and exactly the changed or invalidated files are read again.
 */
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  unlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Matcher,
  StatCache,
  digestSelection,
  ignorePatterns,
  selectSources,
  walkContext,
  type SelectionDigest,
} from '../../core/src/context/index.js';

let root: string;
let ctx: string;
let cacheFile: string;
let useWalkStats = true;

/** Longer than the stat cache's racy window, so what was just written can be remembered. */
const settle = () => new Promise((r) => setTimeout(r, 80));

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'drydock-digest-'));
  ctx = join(root, 'ctx');
  cacheFile = join(root, 'store', 'stat-cache.json');
  await mkdir(join(ctx, 'src/lib'), { recursive: true });
  await writeFile(join(ctx, 'src/main.ts'), 'console.log(1);\n');
  await writeFile(join(ctx, 'src/lib/util.ts'), 'export const x = 1;\n');
  await writeFile(join(ctx, 'README.md'), '# readme\n');
  await writeFile(join(ctx, 'debug.log'), 'noise\n');
  await writeFile(join(ctx, '.dockerignore'), '*.log\n');
  await symlink('main.ts', join(ctx, 'src/entry.ts'));
  await settle();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A build as the engine runs it: cache loaded from disk, context walked, `COPY . /app/`, cache saved. */
async function build(): Promise<SelectionDigest> {
  const cache = await StatCache.load(cacheFile);
  const matcher = new Matcher(await ignorePatterns(ctx, { name: 'app', ignore: [] }));
  const index = await walkContext(ctx, matcher);
  const selection = selectSources(index, { sources: ['.'], dest: '/app/' });
  const result = await digestSelection(ctx, selection, cache, useWalkStats ? index : undefined);
  expect(cache.filesRead).toBe(result.filesRead);
  await cache.save();
  return result;
}

// Both ways the engine can call it: reusing the walk's lstat results, or statting each file again.
describe.each([
  ['with the walk stats', true],
  ['statting again', false],
])('digestSelection with a persistent stat cache (%s)', (_how, walkStats) => {
  beforeEach(() => {
    useWalkStats = walkStats;
  });

  it('a second build reads no file, and the cache is written atomically', async () => {
    const first = await build();
    expect(first.filesRead).toBe(4); // README.md, .dockerignore, src/main.ts, src/lib/util.ts
    const second = await build();
    expect(second).toEqual({ ...first, filesRead: 0, bytesRead: 0 });
    expect((await readdir(join(root, 'store'))).sort()).toEqual(['stat-cache.json']);
  });

  it('touch: same digest, only that file is read again', async () => {
    const first = await build();
    const later = new Date(Date.now() + 5000);
    await utimes(join(ctx, 'src/main.ts'), later, later);
    const second = await build();
    expect(second.digest).toBe(first.digest);
    expect(second.filesRead).toBe(1);
  });

  it('same content with a different mtime (rewritten elsewhere) gives the same digest', async () => {
    const first = await build();
    await rm(join(ctx, 'src/lib/util.ts'));
    await writeFile(join(ctx, 'src/lib/util.ts'), 'export const x = 1;\n');
    await utimes(join(ctx, 'src/lib/util.ts'), new Date(0), new Date(0));
    expect((await build()).digest).toBe(first.digest);
  });

  it('a content change gives a new digest and exactly one read', async () => {
    const first = await build();
    await writeFile(join(ctx, 'src/main.ts'), 'console.log(2);\n');
    const second = await build();
    expect(second.digest).not.toBe(first.digest);
    expect(second.filesRead).toBe(1);
  });

  it('a same-size change within the same second is still seen (ns mtime and ctime)', async () => {
    const first = await build();
    const before = await lstat(join(ctx, 'README.md'), { bigint: true });
    await writeFile(join(ctx, 'README.md'), '# README\n');
    await utimes(join(ctx, 'README.md'), Number(before.atimeMs) / 1000, Number(before.mtimeMs) / 1000);
    expect((await build()).digest).not.toBe(first.digest);
  });

  it('a same-size rewrite that restores the exact mtime is seen by its ctime', async () => {
    const file = join(ctx, 'README.md');
    // Whole seconds, so utimes can restore the mtime exactly (it takes a float of seconds).
    const mtime = Math.floor(Date.now() / 1000) - 60;
    await utimes(file, mtime, mtime);
    await settle();
    const first = await build();
    const before = await lstat(file);
    await writeFile(file, '# README\n');
    await utimes(file, mtime, mtime);
    const after = await lstat(file);
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);
    expect(after.ctimeMs).not.toBe(before.ctimeMs);
    const second = await build();
    expect(second.digest).not.toBe(first.digest);
    expect(second.filesRead).toBe(1);
  });

  it('a mode change (setuid too) gives a new digest; owner does not', async () => {
    const first = await build();
    await chown(join(ctx, 'src/main.ts'), 1234, 1234);
    expect((await build()).digest).toBe(first.digest);
    await chmod(join(ctx, 'src/main.ts'), 0o755);
    const exec = await build();
    expect(exec.digest).not.toBe(first.digest);
    await chmod(join(ctx, 'src/main.ts'), 0o4755);
    expect((await build()).digest).not.toBe(exec.digest);
  });

  it('a changed symlink target gives a new digest', async () => {
    const first = await build();
    await unlink(join(ctx, 'src/entry.ts'));
    await symlink('lib/util.ts', join(ctx, 'src/entry.ts'));
    expect((await build()).digest).not.toBe(first.digest);
  });

  it('a change to an ignored file changes nothing and reads nothing', async () => {
    const first = await build();
    await writeFile(join(ctx, 'debug.log'), 'more noise\n');
    const second = await build();
    expect(second.digest).toBe(first.digest);
    expect(second.filesRead).toBe(0);
  });

  it('invalidate([path]) re-reads just that file', async () => {
    await build();
    const cache = await StatCache.load(cacheFile);
    cache.invalidate([join(ctx, 'src/lib/util.ts')]);
    await cache.save();
    expect((await build()).filesRead).toBe(1);
    const again = await StatCache.load(cacheFile);
    again.invalidate([join(ctx, 'src')]); // a directory: everything below it
    await again.save();
    expect((await build()).filesRead).toBe(2);
  });

  it('a build that reads nothing leaves the cache file alone', async () => {
    await build();
    const before = await lstat(cacheFile);
    expect((await build()).filesRead).toBe(0);
    const after = await lstat(cacheFile);
    // save() writes a new file and renames it over: an unchanged inode means no write.
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('a cache file of an older format is ignored, then replaced', async () => {
    await build();
    // Version 2 was one JSON document keyed by absolute path, with a `dev:ino:size:mtimeNs:ctimeNs` signature.
    const st = await lstat(join(ctx, 'README.md'), { bigint: true });
    const sig = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    await writeFile(
      cacheFile,
      JSON.stringify({ version: 2, entries: { [join(ctx, 'README.md')]: [sig, 'sha256:0'] } }),
    );
    expect((await StatCache.load(cacheFile)).size).toBe(0);
    expect((await build()).filesRead).toBe(4);
    expect((await build()).filesRead).toBe(0);
  });

  it('a truncated or otherwise damaged cache file is an empty cache', async () => {
    await build();
    const good = await readFile(cacheFile);
    expect((await StatCache.load(cacheFile)).size).toBe(4);
    for (const bad of [
      good.subarray(0, good.length - 1),
      Buffer.concat([good, Buffer.from('x')]),
      Buffer.from(good.toString('latin1').replace('drydock-stat-cache 3', 'drydock-stat-cache 9'), 'latin1'),
      Buffer.alloc(0),
    ]) {
      await writeFile(cacheFile, bad);
      expect((await StatCache.load(cacheFile)).size).toBe(0);
    }
    expect((await build()).filesRead).toBe(4);
  });

  it('an unreadable cache file is an empty cache', async () => {
    await build();
    await writeFile(cacheFile, '{ not json');
    expect((await build()).filesRead).toBe(4);
    expect((await build()).filesRead).toBe(0);
  });
});

describe('StatCache', () => {
  it('does not remember a digest taken within the racy window of the last change', async () => {
    const file = join(ctx, 'README.md');
    const st = await lstat(file);
    const cache = StatCache.memory();
    cache.set(file, st, 'sha256:a', st.ctimeMs + 1);
    expect(cache.get(file, st)).toBeUndefined();
    cache.set(file, st, 'sha256:b', st.ctimeMs + 1000);
    expect(cache.get(file, st)).toBe('sha256:b');
    expect(cache.get(file, { ...st, ino: st.ino + 1 })).toBeUndefined();
    expect(cache.get(file, { ...st, ctimeMs: st.ctimeMs + 0.001 })).toBeUndefined();
  });

  it('keeps sub-millisecond timestamps exactly through a save and load', async () => {
    const file = join(ctx, 'README.md');
    // Nanosecond timestamps as fs.Stats gives them: ms with a fraction (1 µs apart here).
    const ms = 1_700_000_000_123 + 0.4567;
    const st = { dev: 2049, ino: 2 ** 40 + 3, size: 9, mtimeMs: ms, ctimeMs: ms + 0.001 };
    const cache = await StatCache.load(cacheFile);
    cache.set(file, st, 'sha256:a', Date.now());
    await cache.save();
    const again = await StatCache.load(cacheFile);
    expect(again.get(file, st)).toBe('sha256:a');
    expect(again.get(file, { ...st, mtimeMs: ms - 0.001 })).toBeUndefined();
  });

  it('answers for absolute paths what a digest recorded below its context, and invalidates it', async () => {
    const cache = await StatCache.load(cacheFile);
    const index = await walkContext(ctx, new Matcher([]));
    await digestSelection(ctx, selectSources(index, { sources: ['.'], dest: '/app/' }), cache, index);
    const file = join(ctx, 'src/lib/util.ts');
    const st = await lstat(file);
    expect(cache.get(file, st)).toMatch(/^sha256:/);
    await cache.save();
    const again = await StatCache.load(cacheFile);
    expect(again.get(file, st)).toBe(cache.get(file, st));
    // A directory above the context root forgets the whole context.
    again.invalidate([root]);
    expect(again.get(file, st)).toBeUndefined();
    expect(again.size).toBe(0);
  });
});
