// Snapshots are not flushed to disk before they are renamed into place: a `sync` of the file system
// per layer was ~5 ms on the critical path of every rebuild. A snapshot is only a cache of its blob
// (blobs and records are fsynced), so what matters is never to trust one that a power loss tore. Before
// its rename, an empty file named by the snapshot is created in `unsynced/<boot id>/`. Journaling file
// systems (ext4, xfs, btrfs) commit metadata in the order it was changed, so a rename that survived a
// crash has its marker too. A snapshot marked in another boot may be torn: it is built again
// (snapshots.ts). A marker of this boot is harmless (the data is in the page cache, whatever happens
// to the process) and is removed once a later `sync -f` made it unnecessary (settle).
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
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

/** Per store: the marker directories of other boots (a boot never changes while a process runs). */
const staleBootsMemo = new Map<string, Promise<string[]>>();

function staleBoots(paths: StorePaths): Promise<string[]> {
  let p = staleBootsMemo.get(paths.unsynced);
  if (!p) {
    p = readdir(paths.unsynced).then(
      (names) => names.filter((n) => n !== bootId()),
      (error: unknown) => {
        if (hasErrno(error, 'ENOENT')) return [];
        throw error;
      },
    );
    staleBootsMemo.set(paths.unsynced, p);
    p.catch(() => staleBootsMemo.delete(paths.unsynced));
  }
  return p;
}

/** Whether snapshot `id` was renamed into place in another boot before it was known to be on disk. */
export async function markedInAnotherBoot(paths: StorePaths, id: string): Promise<boolean> {
  for (const boot of await staleBoots(paths)) {
    try {
      await stat(join(paths.unsynced, boot, id));
      return true;
    } catch (error) {
      if (!hasErrno(error, 'ENOENT')) throw error;
    }
  }
  return false;
}

/** Marks snapshot `id` as not yet on disk, in this boot; false where there is no boot id. */
export async function markUnsynced(paths: StorePaths, id: string): Promise<boolean> {
  const boot = bootId();
  if (boot === null) return false;
  const dir = join(paths.unsynced, boot);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, id), '');
  return true;
}

/** Drops the markers other boots left for snapshot `id` (it was just built again, or removed). */
export async function forgetOtherBoots(paths: StorePaths, id: string): Promise<void> {
  for (const boot of await staleBoots(paths)) {
    await unlink(join(paths.unsynced, boot, id)).catch((error: unknown) => {
      if (!hasErrno(error, 'ENOENT')) throw error;
    });
    // The last one gone, so is the directory, and with it every later check's stat.
    await rmdir(join(paths.unsynced, boot)).then(
      () => staleBootsMemo.delete(paths.unsynced),
      () => {},
    );
  }
}

/** Drops every marker of snapshot `id`, this boot's too (prune removed it). */
export async function forgetMarkers(paths: StorePaths, id: string): Promise<void> {
  await forgetOtherBoots(paths, id);
  const boot = bootId();
  if (boot !== null) await unlink(join(paths.unsynced, boot, id)).catch(() => {});
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
