// Snapshots are not flushed to disk before they are renamed into place: a `sync` of the file system
// per layer was ~5 ms on the critical path of every rebuild. A snapshot is only a cache of its blob
// (blobs and records are fsynced), so what matters is never to trust one that a power loss tore. Before
// its rename, an empty file named by the snapshot is created in `unsynced/<boot id>/`. Journaling file
// systems (ext4, xfs, btrfs) commit metadata in the order it was changed, so a rename that survived a
// crash has its marker too. A snapshot marked in another boot may be torn: it is built again
// (snapshots.ts). A marker of this boot is harmless (the data is in the page cache, whatever happens
// to the process) and is removed once a later `sync -f` made it unnecessary (settle).
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFileSystem } from './atomic.js';
import { hasErrno } from './errors.js';
import type { StorePaths } from './paths.js';

let bootIdMemo: string | null | undefined;

/** This boot's id (Linux); null where there is none, and then snapshots are synced before their rename. */
export function bootId(): string | null {
  if (bootIdMemo === undefined) {
    try {
      bootIdMemo = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootIdMemo = null;
    }
  }
  return bootIdMemo;
}

// Marking is a handful of metadata calls on the critical path of every step that makes a layer:
// they are made synchronously (microseconds each), not as thread-pool round trips that wait behind
// whatever holds the event loop.

/** Per store: the marker directories of other boots (a boot never changes while a process runs). */
const staleBootsMemo = new Map<string, string[]>();

function staleBoots(paths: StorePaths): string[] {
  let boots = staleBootsMemo.get(paths.unsynced);
  if (!boots) {
    try {
      boots = readdirSync(paths.unsynced).filter((n) => n !== bootId());
    } catch (error) {
      if (!hasErrno(error, 'ENOENT')) throw error;
      boots = [];
    }
    staleBootsMemo.set(paths.unsynced, boots);
  }
  return boots;
}

/** Whether snapshot `id` was renamed into place in another boot before it was known to be on disk. */
export function markedInAnotherBoot(paths: StorePaths, id: string): boolean {
  return staleBoots(paths).some((boot) => statSync(join(paths.unsynced, boot, id), { throwIfNoEntry: false }));
}

/** Marks snapshot `id` as not yet on disk, in this boot; false where there is no boot id. */
export function markUnsynced(paths: StorePaths, id: string): boolean {
  const boot = bootId();
  if (boot === null) return false;
  const dir = join(paths.unsynced, boot);
  mkdirSync(dir, { recursive: true });
  closeSync(openSync(join(dir, id), 'w'));
  return true;
}

/** Drops the markers other boots left for snapshot `id` (it was just built again, or removed). */
export function forgetOtherBoots(paths: StorePaths, id: string): void {
  for (const boot of staleBoots(paths)) {
    try {
      unlinkSync(join(paths.unsynced, boot, id));
    } catch (error) {
      if (!hasErrno(error, 'ENOENT')) throw error;
    }
    // The last one gone, so is the directory, and with it every later check's stat.
    try {
      rmdirSync(join(paths.unsynced, boot));
      staleBootsMemo.delete(paths.unsynced);
    } catch {
      // Other snapshots of that boot are still marked.
    }
  }
}

/** Drops every marker of snapshot `id`, this boot's too (prune removed it). */
export function forgetMarkers(paths: StorePaths, id: string): void {
  forgetOtherBoots(paths, id);
  const boot = bootId();
  if (boot === null) return;
  try {
    unlinkSync(join(paths.unsynced, boot, id));
  } catch {
    // Not marked.
  }
}

/**
 * Flushes the store's file system and then removes the markers of this boot that existed before the
 * flush: their snapshots are on disk now. Returns how many it removed.
 */
export async function settle(paths: StorePaths): Promise<number> {
  const boot = bootId();
  if (boot === null) return 0;
  const dir = join(paths.unsynced, boot);
  const names = await readdir(dir).catch(() => [] as string[]);
  if (names.length === 0) return 0;
  // Without syncfs the marks stay (walking every snapshot to fsync it would cost far more).
  if (!(await syncFileSystem(paths.snapshots))) return 0;
  for (const name of names) await unlink(join(dir, name)).catch(() => {});
  return names.length;
}
