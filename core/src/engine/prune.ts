/**
 * `drydock prune`: drops cache records unused for a while (all of them with `all`), then removes
 * every blob and snapshot no remaining record references. Builds in flight are never raced: the
 * store's prune waits for their leases.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Store, type StoreRecord } from '../store/index.js';
import { MEMBER_CACHE } from './layers.js';

export interface PruneStoreOptions {
  storeRoot?: string;
  /** Drop every record (and so everything), cache mounts included. */
  all?: boolean;
  /** Drop records not used for this long (ms); default: keep every record, remove only what none references. */
  olderThanMs?: number;
  dryRun?: boolean;
  now?: number;
}

export interface PruneStoreResult {
  records: number;
  blobs: number;
  snapshots: number;
  freedBytes: number;
}

const DIGEST = /sha256:([0-9a-f]{64})/g;

/** Every blob digest a record mentions, and the snapshot id (diff_id hex) of every layer. */
export function referenced(records: readonly StoreRecord[]): Set<string> {
  const keep = new Set<string>();
  for (const record of records) {
    for (const m of JSON.stringify(record.value).matchAll(DIGEST)) {
      keep.add(m[0]);
      keep.add(m[1]!);
    }
  }
  return keep;
}

export async function pruneStore(o: PruneStoreOptions = {}): Promise<PruneStoreResult> {
  const store = await Store.open(o.storeRoot !== undefined ? { root: o.storeRoot } : {});
  const now = o.now ?? Date.now();
  const result = await store.prune({
    keep: referenced,
    ...(o.dryRun ? { dryRun: true } : {}),
    dropRecord: (r) => o.all === true || (o.olderThanMs !== undefined && (r.usedAt ?? 0) < now - o.olderThanMs),
  });
  if (o.all && !o.dryRun) await rm(join(store.paths.base, 'cache-mounts'), { recursive: true, force: true });
  // Compressed layer members only spare rebuilds some deflate time, and grow with every edit:
  // every prune empties them (the config compile cache likewise, and the executable's code caches,
  // one per drydock install and version, which the next build writes again).
  let cachedBytes = 0;
  for (const cache of [MEMBER_CACHE, 'config-js', 'code-cache']) {
    const dir = join(store.paths.base, cache);
    cachedBytes += await treeBytes(dir);
    if (!o.dryRun) await rm(dir, { recursive: true, force: true });
  }
  // Walk records are only a head start for the next build (which walks without one), and one is
  // left behind by every change of a context's ignore rules.
  const statCache = join(store.paths.base, 'stat-cache');
  for (const name of await readdir(statCache).catch(() => [] as string[])) {
    if (!name.endsWith('.walk')) continue;
    cachedBytes += (await stat(join(statCache, name)).catch(() => ({ size: 0 }))).size;
    if (!o.dryRun) await rm(join(statCache, name), { force: true });
  }
  // And the record checks each command line asked for, remembered for its next run.
  if (!o.dryRun) await rm(join(statCache, 'early'), { recursive: true, force: true });
  return {
    records: result.removedRecords.length,
    blobs: result.removedBlobs.length,
    snapshots: result.removedSnapshots.length,
    freedBytes: result.freedBytes + cachedBytes,
  };
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
