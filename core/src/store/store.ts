// The local store: blobs, snapshots, cache records, locks. Layout under `<root>/v1/`:
//   blobs/sha256/<hex>   content-addressed blobs (read-only files)
//   snapshots/<id>/      extracted layer trees, overlay lowerdirs
//   index/<sha256(key)>.json   cache records
//   tmp/                 everything is written here first (same file system as the rest)
//   locks/               proper-lockfile lock dirs; locks/gc.shared/ holds build leases
//
// Invariants:
//   1. Every write is atomic: written in tmp/, fsynced, renamed into place, directory fsynced. Nothing
//      visible is ever partial, so a build killed at any instant (kill -9) leaves a valid store; what it
//      leaves in tmp/ is invisible and pruned after an hour.
//   2. A blob's file name is the sha256 of its content: checked on every write (a mismatch publishes
//      nothing), and on every read through readBlob (a mismatch deletes the blob, fails with EDIGEST).
//   3. A snapshot directory, once visible, is complete: it appears by one rename of a finished tree.
//      Builds of one id are serialized by a per-id lock; if that lock goes stale two builds may run,
//      and the loser discards its copy.
//   4. Several drydock processes may share one store. Locks are lock dirs refreshed by their holder and
//      taken over once stale (`lockStaleMs`), so a killed process never wedges the store.
//   5. Prune never races a build: putBlob and ensureSnapshot (and whatever a caller wraps in
//      withBuild) hold a shared lease on `gc`; prune holds `gc` exclusively (locks.ts has the scheme).
//      A build that needs unreferenced items to survive between calls must wrap them in withBuild until
//      it has written the records that reference them. putRecord takes no lease (prune never deletes
//      records); its temp files are safe because prune only removes tmp/ entries older than an hour.
import { mkdir } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import * as blobs from './blobs.js';
import { StoreError } from './errors.js';
import { lockShared, withExclusive, withLock, type HeldLock, type LockConfig } from './locks.js';
import { resolveRoot, storePaths, type StorePaths } from './paths.js';
import { prune, usage, type PruneOptions, type PruneResult, type Usage } from './prune.js';
import {
  getRecord,
  keepRecord,
  listRecords,
  putRecord,
  touchRecord,
  type StoreRecord,
  type StoreWarning,
} from './records.js';
import { adoptSnapshot, ensureSnapshot, snapshotPath } from './snapshots.js';
import { settle } from './unsynced.js';

export interface StoreOptions {
  /** Store root; overrides DRYDOCK_HOME and the default ~/.cache/drydock. */
  root?: string;
  /** ms after which a lock whose holder stopped refreshing it is taken over (default 10 000, min 2 000). */
  lockStaleMs?: number;
  /** Called for each problem the store repaired by itself (a corrupt record it dropped). */
  onWarning?: (warning: StoreWarning) => void;
}

const GC = 'gc';
/** Records remembered: a watch session's rebuilds look up a few dozen; the bound keeps its memory flat. */
const REMEMBERED_RECORDS = 512;
const TOUCH_AGAIN_MS = 60_000;

export class Store {
  readonly paths: StorePaths;
  /** Warnings so far (also passed to `onWarning`). */
  readonly warnings: StoreWarning[] = [];
  private readonly locks: LockConfig;
  private readonly onWarning: ((warning: StoreWarning) => void) | undefined;
  // One shared `gc` lease per Store, reference-counted across concurrent in-process users.
  private leaseHolders = 0;
  /** Records read or written through this Store, most recent last, with when it last touched each. */
  private readonly records = new Map<string, { value: unknown; touchedAt: number }>();
  private lease: Promise<HeldLock> | undefined;

  private constructor(paths: StorePaths, options: StoreOptions) {
    this.paths = paths;
    this.locks = { dir: paths.locks, staleMs: Math.max(options.lockStaleMs ?? 10_000, 2_000) };
    this.onWarning = options.onWarning;
  }

  static async open(options: StoreOptions = {}): Promise<Store> {
    const paths = storePaths(resolveRoot(options.root));
    for (const dir of [paths.blobs, paths.snapshots, paths.index, paths.tmp, paths.locks]) {
      await mkdir(dir, { recursive: true });
    }
    return new Store(paths, options);
  }

  get root(): string {
    return this.paths.root;
  }

  private readonly warn = (warning: StoreWarning): void => {
    this.warnings.push(warning);
    this.onWarning?.(warning);
  };

  // Blobs

  putBlob(source: blobs.BlobSource, expected?: { digest?: string; size?: number }): Promise<blobs.BlobInfo> {
    return this.withBuild(() => blobs.putBlob(this.paths, source, expected));
  }

  /** Moves a file of this process (in tmp/, its digest computed while writing it) into the store; see blobs.ts. */
  adoptBlob(file: string, digest: string): Promise<blobs.BlobInfo> {
    return this.withBuild(() => blobs.adoptBlob(this.paths, file, digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await blobs.statBlob(this.paths, digest)) !== undefined;
  }

  /** The blob's file, for readers that verify the digest themselves. */
  blobPath(digest: string): string {
    return blobs.blobPath(this.paths, digest);
  }

  readBlob(digest: string): Readable {
    return blobs.readBlob(this.paths, digest);
  }

  /** The whole blob, verified like readBlob: for small ones (manifests, configs). */
  readBlobBytes(digest: string): Promise<Buffer> {
    return blobs.readBlobBytes(this.paths, digest);
  }

  statBlob(digest: string): Promise<blobs.BlobInfo | undefined> {
    return blobs.statBlob(this.paths, digest);
  }

  // Snapshots

  ensureSnapshot(id: string, build: (dir: string) => Promise<void>): Promise<string> {
    return this.withBuild(() => ensureSnapshot(this.paths, this.locks, id, build));
  }

  /** Moves a complete tree (in tmp/) into place as snapshot `id`; see snapshots.ts. */
  adoptSnapshot(id: string, dir: string): Promise<string> {
    return this.withBuild(() => adoptSnapshot(this.paths, this.locks, id, dir));
  }

  /**
   * Flushes the store's file system if snapshots were renamed into place without it, so that they
   * stay trusted after a power loss (unsynced.ts). Off the critical path: a build starts it in the
   * background, a watch session when it is idle.
   */
  settleSnapshots(): Promise<number> {
    return settle(this.paths);
  }

  snapshotPath(id: string): string {
    return snapshotPath(this.paths, id);
  }

  // Cache records

  /**
   * Reads a record, remembering it: a watch session looks the same steps up on every rebuild. Another
   * process may meanwhile replace a record only with another valid result of the same key, or remove
   * it together with its blob (which the solver checks), so a remembered record stays usable.
   */
  async getRecord<T>(key: string): Promise<T | undefined> {
    const known = this.records.get(key);
    if (known) {
      this.remember(key, known.value, known.touchedAt);
      return known.value as T;
    }
    const value = await getRecord<T>(this.paths, key, this.warn);
    if (value !== undefined) this.remember(key, value, 0);
    return value;
  }

  /** A record whose content is fixed by its key: written once, touched when used again (see records.ts). */
  keepRecord(key: string, value: () => unknown): Promise<void> {
    return keepRecord(this.paths, key, value);
  }

  async putRecord(key: string, value: unknown): Promise<void> {
    await putRecord(this.paths, key, value);
    this.remember(key, value, Date.now());
  }

  /**
   * Marks a record used now: age-based pruning (days) keeps what builds still use. A record this
   * Store touched or wrote within the last minute is not touched again.
   */
  async touchRecord(key: string): Promise<boolean> {
    const known = this.records.get(key);
    if (known && Date.now() - known.touchedAt < TOUCH_AGAIN_MS) return true;
    const touched = await touchRecord(this.paths, key);
    if (touched && known) known.touchedAt = Date.now();
    return touched;
  }

  private remember(key: string, value: unknown, touchedAt: number): void {
    this.records.delete(key);
    if (this.records.size >= REMEMBERED_RECORDS) this.records.delete(this.records.keys().next().value!);
    this.records.set(key, { value, touchedAt });
  }

  listRecords(): Promise<StoreRecord[]> {
    return listRecords(this.paths, this.warn);
  }

  // Locks

  /** Runs `fn` under the cross-process exclusive lock `name` (names: [A-Za-z0-9._:-], no slashes). */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return withLock(this.locks, `user-${name}`, fn);
  }

  /** Runs `fn` holding a shared lease on the store: prune waits until it (and every other lease) ends. */
  async withBuild<T>(fn: () => Promise<T>): Promise<T> {
    this.leaseHolders++;
    const lease = (this.lease ??= lockShared(this.locks, GC));
    try {
      await lease;
    } catch (error) {
      if (--this.leaseHolders === 0 && this.lease === lease) this.lease = undefined;
      throw error;
    }
    try {
      return await fn();
    } finally {
      if (--this.leaseHolders === 0 && this.lease === lease) {
        this.lease = undefined;
        await (await lease).release();
      }
    }
  }

  // Garbage collection

  /** Removes unreferenced blobs and snapshots and abandoned tmp entries, exclusive against all builds. */
  async prune(options: PruneOptions): Promise<PruneResult> {
    if (this.leaseHolders > 0) {
      throw new StoreError('EBUSY', 'prune cannot run inside withBuild/putBlob/ensureSnapshot of the same store');
    }
    // What it removes must not live on here.
    this.records.clear();
    return withExclusive(this.locks, GC, async () => prune(this.paths, await this.listRecords(), options));
  }

  usage(): Promise<Usage> {
    return usage(this.paths);
  }
}
