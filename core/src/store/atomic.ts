// Atomic file-system primitives. Everything visible in the store appears by rename(2) from `tmp/`, which
// is on the same file system, so readers see either nothing or the whole thing. Data is fsynced before
// the rename and the directory after it, so a crash (not just kill -9) cannot publish a name whose
// content is still only in the page cache.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool } from '../host/spawn.js';
import { hasErrno } from './errors.js';

/** A fresh, unguessable name in `tmp/`; the pid helps a human tell whose leftovers they are. */
export const tmpName = (tmpDir: string, prefix: string): string =>
  join(tmpDir, `${prefix}-${process.pid}-${randomBytes(8).toString('hex')}`);

export const fsyncPath = async (path: string): Promise<void> => {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/** Makes a rename or unlink in `dir` durable. */
export const fsyncDir = fsyncPath;

/** Writes `data` to a temp file, fsyncs it, renames it over `dest` and fsyncs the directory. */
export const writeFileAtomic = async (tmpDir: string, dest: string, data: string | Buffer): Promise<void> => {
  const tmp = tmpName(tmpDir, 'write');
  const handle = await open(tmp, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, dest);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
  await fsyncDir(join(dest, '..'));
};

/** Flushes the file system holding `dir` (`sync -f`, syncfs(2)); false where that cannot be done. */
export const syncFileSystem = (dir: string): Promise<boolean> =>
  runTool('sync', ['-f', dir]).then(
    ({ code }) => code === 0,
    () => false,
  );

/**
 * Flushes a whole tree before it is renamed into place. `sync -f` (syncfs(2), coreutils) does it in one
 * call for the file system; without it we fsync every file and directory, which is correct but slow.
 */
export const syncTree = async (dir: string): Promise<void> => {
  if (await syncFileSystem(dir)) return;
  // Without it, the portable walk.
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isDirectory()) {
      for (const entry of await readdir(path)) await walk(join(path, entry));
    }
    // Only regular files and directories can be opened for fsync without side effects (a FIFO would block).
    if (st.isDirectory() || st.isFile()) await fsyncPath(path).catch(() => {});
  };
  await walk(dir);
};

/**
 * Removes a tree even when it contains read-only directories. Root ignores directory modes, but a store
 * used without root (or a tree copied with its modes from a layer) may not: then we make every directory
 * writable and searchable and try again.
 */
export const removeTree = async (path: string): Promise<void> => {
  try {
    await rm(path, { recursive: true, force: true });
    return;
  } catch (error) {
    if (!hasErrno(error, 'EACCES', 'EPERM', 'ENOTEMPTY')) throw error;
  }
  const unlock = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st?.isDirectory()) return;
    await chmod(p, 0o700);
    for (const entry of await readdir(p)) await unlock(join(p, entry));
  };
  await unlock(path);
  await rm(path, { recursive: true, force: true });
};

/** Apparent size of a tree: regular files counted once per inode, so hardlinks are not double-counted. */
export const treeSize = async (path: string): Promise<number> => {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory()) {
      for (const entry of await readdir(p).catch(() => [])) await walk(join(p, entry));
    } else if (st.isFile()) {
      const id = `${st.dev}:${st.ino}`;
      if (!seen.has(id)) {
        seen.add(id);
        total += st.size;
      }
    }
  };
  await walk(path);
  return total;
};
