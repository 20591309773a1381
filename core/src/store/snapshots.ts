// Snapshots: extracted layer trees (`snapshots/<id>/`) used as overlay lowerdirs. The store only makes
// the directory appear atomically; the caller's `build` fills it (ownership, modes, xattrs, device
// nodes and hardlinks are the caller's, and rename(2) preserves all of them). It is marked rather than
// flushed before its rename (unsynced.ts); one marked in an earlier boot is built again.
import { renameSync, statSync } from 'node:fs';
import { chmod, mkdir, rename, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, removeTree, syncTree, tmpName } from './atomic.js';
import { hasErrno } from './errors.js';
import { withLock, type LockConfig } from './locks.js';
import { checkName, type StorePaths } from './paths.js';
import { forgetOtherBoots, markedInAnotherBoot, markUnsynced } from './unsynced.js';

export const snapshotPath = (paths: StorePaths, id: string): string =>
  join(paths.snapshots, checkName('snapshot id', id));

// The checks and the rename that publish a snapshot are synchronous: microseconds each, where a
// thread-pool round trip waits behind whatever holds the event loop (see unsynced.ts).
const exists = (path: string): boolean => statSync(path, { throwIfNoEntry: false }) !== undefined;

export const ensureSnapshot = async (
  paths: StorePaths,
  locks: LockConfig,
  id: string,
  build: (dir: string) => Promise<void>,
): Promise<string> => {
  const dest = snapshotPath(paths, id);
  if (exists(dest) && !markedInAnotherBoot(paths, id)) return dest;
  // The per-id lock makes a concurrent process wait for our build instead of repeating it. If our lock
  // goes stale (we were killed, or stalled past `stale`) the other process builds too: that is the
  // "harmlessly twice" case, resolved below by whoever renames first.
  return withLock(locks, `snapshot-${id}`, async () => {
    if (exists(dest)) {
      if (!markedInAnotherBoot(paths, id)) return dest;
      // Possibly torn by a crash: out of sight first, as prune does, then built again.
      const doomed = tmpName(paths.tmp, 'torn');
      await rename(dest, doomed);
      await removeTree(doomed);
    }
    const tmp = tmpName(paths.tmp, 'snapshot');
    await mkdir(tmp, { mode: 0o755 });
    await chmod(tmp, 0o755); // mkdir's mode is filtered by the umask; a lowerdir root must be 0755
    try {
      await build(tmp);
      return await publish(paths, id, tmp);
    } catch (error) {
      await removeTree(tmp).catch(() => {});
      throw error;
    }
  });
};

/**
 * Moves `dir`, a complete tree on the store's file system, into place as snapshot `id`, without the
 * per-id lock: a rename is all the build there is, so two processes doing it at once only race to
 * publish the same tree, and the loser's is removed. (A snapshot to replace, marked in an earlier
 * boot, goes through ensureSnapshot and its lock.)
 */
export const adoptSnapshot = async (paths: StorePaths, locks: LockConfig, id: string, dir: string): Promise<string> => {
  const dest = snapshotPath(paths, id);
  const present = exists(dest);
  if (present && !markedInAnotherBoot(paths, id)) {
    await removeTree(dir);
    return dest;
  }
  if (present) {
    return ensureSnapshot(paths, locks, id, async (tmp) => {
      await rmdir(tmp);
      await rename(dir, tmp);
    });
  }
  return publish(paths, id, dir);
};

/** Renames a complete `tree` into place as snapshot `id`, marked (or, without a boot id, flushed) first. */
async function publish(paths: StorePaths, id: string, tree: string): Promise<string> {
  const dest = snapshotPath(paths, id);
  const marked = markUnsynced(paths, id);
  if (!marked) await syncTree(tree);
  forgetOtherBoots(paths, id);
  try {
    renameSync(tree, dest);
  } catch (error) {
    // Renaming a directory onto a non-empty one fails: another builder won; its tree is equivalent.
    if (!hasErrno(error, 'ENOTEMPTY', 'EEXIST')) throw error;
    await removeTree(tree);
    return dest;
  }
  if (!marked) await fsyncDir(paths.snapshots);
  return dest;
}
