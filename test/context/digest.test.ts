/**
 * Selection digests and the persistent stat cache: content, mode and link targets count; mtime,
 * uid/gid and ignored files do not; a cache loaded anew from disk lets an unchanged context be
 * hashed without reading a file, and exactly the changed or invalidated files are read again.
 */
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
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
    const st = await lstat(file, { bigint: true });
    const cache = StatCache.memory();
    cache.set(file, st, 'sha256:a', st.ctimeNs + 1_000_000n);
    expect(cache.get(file, st)).toBeUndefined();
    cache.set(file, st, 'sha256:b', st.ctimeNs + 1_000_000_000n);
    expect(cache.get(file, st)).toBe('sha256:b');
    expect(cache.get(file, { ...st, ino: st.ino + 1n })).toBeUndefined();
    expect(cache.get(file, { ...st, ctimeNs: st.ctimeNs + 1n })).toBeUndefined();
  });
});
