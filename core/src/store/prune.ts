// Garbage collection and accounting. Prune runs under the exclusive `gc` lock (see locks.ts), so no
// build is in flight: anything not referenced by the caller's `keep` set is garbage.
import { lstat, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, removeTree, tmpName, treeSize } from './atomic.js';
import { forgetMarkers } from './unsynced.js';
import { hasErrno } from './errors.js';
import type { StorePaths } from './paths.js';
import { deleteRecord, type StoreRecord } from './records.js';

export interface PruneOptions {
  /** Records to delete first (e.g. unused for a week); what only they referenced then goes too. */
  dropRecord?: (record: StoreRecord) => boolean;
  /** Returns every referenced blob digest (`sha256:<hex>`) and snapshot id; everything else goes. */
  keep: (records: StoreRecord[]) => Set<string> | Promise<Set<string>>;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
  /** Age after which a `tmp/` entry counts as abandoned (default one hour). */
  tmpMaxAgeMs?: number;
}

export interface PruneResult {
  removedRecords: string[];
  removedBlobs: string[];
  removedSnapshots: string[];
  removedTmp: string[];
  freedBytes: number;
}

export interface Usage {
  blobs: { count: number; bytes: number };
  snapshots: { count: number; bytes: number };
  records: { count: number; bytes: number };
  tmp: { count: number; bytes: number };
  totalBytes: number;
}

const list = async (dir: string): Promise<string[]> => {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return [];
    throw error;
  }
};

const HOUR = 60 * 60 * 1000;

export const prune = async (paths: StorePaths, all: StoreRecord[], options: PruneOptions): Promise<PruneResult> => {
  const dryRun = options.dryRun ?? false;
  const result: PruneResult = {
    removedRecords: [],
    removedBlobs: [],
    removedSnapshots: [],
    removedTmp: [],
    freedBytes: 0,
  };
  const records: StoreRecord[] = [];
  for (const record of all) {
    if (!options.dropRecord?.(record)) {
      records.push(record);
      continue;
    }
    result.removedRecords.push(record.key);
    if (!dryRun) await deleteRecord(paths, record.key);
  }
  const keep = await options.keep(records);

  for (const hex of await list(paths.blobs)) {
    const digest = `sha256:${hex}`;
    if (keep.has(digest)) continue;
    const path = join(paths.blobs, hex);
    const st = await stat(path).catch(() => undefined);
    if (!st) continue;
    if (!dryRun) await unlink(path);
    result.removedBlobs.push(digest);
    result.freedBytes += st.size;
  }
  if (!dryRun && result.removedBlobs.length) await fsyncDir(paths.blobs);

  for (const id of await list(paths.snapshots)) {
    if (keep.has(id)) continue;
    const path = join(paths.snapshots, id);
    result.freedBytes += await treeSize(path);
    result.removedSnapshots.push(id);
    if (dryRun) continue;
    // Rename out of sight first: a prune killed mid-delete leaves a tmp leftover, never a half snapshot.
    const doomed = tmpName(paths.tmp, 'prune');
    await rename(path, doomed);
    forgetMarkers(paths, id);
    await removeTree(doomed);
  }
  if (!dryRun && result.removedSnapshots.length) await fsyncDir(paths.snapshots);

  const cutoff = Date.now() - (options.tmpMaxAgeMs ?? HOUR);
  for (const name of await list(paths.tmp)) {
    const path = join(paths.tmp, name);
    const st = await lstat(path).catch(() => undefined);
    if (!st || st.mtimeMs > cutoff) continue;
    result.freedBytes += st.isDirectory() ? await treeSize(path) : st.size;
    result.removedTmp.push(name);
    if (!dryRun) await removeTree(path);
  }
  return result;
};

export const usage = async (paths: StorePaths): Promise<Usage> => {
  const files = async (dir: string) => {
    let bytes = 0;
    const names = await list(dir);
    for (const name of names) bytes += await treeSize(join(dir, name));
    return { count: names.length, bytes };
  };
  const blobs = await files(paths.blobs);
  const snapshots = await files(paths.snapshots);
  const records = await files(paths.index);
  const tmp = await files(paths.tmp);
  return {
    blobs,
    snapshots,
    records,
    tmp,
    totalBytes: blobs.bytes + snapshots.bytes + records.bytes + tmp.bytes,
  };
};
