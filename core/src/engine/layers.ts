/**
 * Layers in the store: a gzip blob (what images are made of) and an extracted snapshot (what overlay
 * mounts as a lowerdir), both named by content. A step's upperdir becomes both at once: its entries
 * are written as the blob, and the directory itself, already in overlay's lowerdir form, is renamed
 * into place as the snapshot instead of being extracted again.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  applyLayerAsLowerdir,
  entriesFromUpperdir,
  lowerdirWriter,
  writeLayer,
  type LayerEntry,
  type MemberCache,
} from '../oci/index.js';
import type { Store } from '../store/index.js';

export interface Layer {
  /** Digest of the compressed blob (the manifest's layer digest). */
  digest: string;
  /** Digest of the uncompressed tar (the config's diff_id). */
  diffId: string;
  size: number;
  mediaType: string;
}

/** Where steps add the time they spend writing layers (a watch cycle reports it). */
export interface LayerTimings {
  layerMs: number;
}

/** Snapshot ids are the diff_id's hex: short enough to keep long overlay lowerdir chains under a page. */
export const snapshotId = (diffId: string): string => diffId.replace(/^sha256:/, '');

/** A fresh directory under the store's tmp/ (same file system as snapshots, so renames work). */
export async function scratchDir(store: Store, prefix: string): Promise<string> {
  const dir = join(store.paths.tmp, `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** The lowerdir of a layer, extracted from its blob if it is not in the store yet. */
export function layerSnapshot(store: Store, layer: Layer): Promise<string> {
  return store.ensureSnapshot(snapshotId(layer.diffId), async (dir) => {
    const blob = store.blobPath(layer.digest);
    if (!(await store.hasBlob(layer.digest))) throw new Error(`layer blob ${layer.digest} is missing from the store`);
    await applyLayerAsLowerdir(blob, dir);
  });
}

/**
 * Turns a step's upperdir into a layer: blob and snapshot. Returns undefined when the step changed
 * nothing (no layer, as BuildKit drops empty layers). The upperdir is consumed either way.
 */
export async function commitUpperdir(
  store: Store,
  upperdir: string,
  epoch: number,
  timings?: LayerTimings,
): Promise<Layer | undefined> {
  try {
    const layer = await writeLayerBlob(store, await entriesFromUpperdir(upperdir), epoch, timings);
    if (layer) {
      await store.ensureSnapshot(snapshotId(layer.diffId), async (dir) => {
        // `dir` is an empty directory: rename(2) replaces it with the upperdir in one step.
        await rmdir(dir);
        await rename(upperdir, dir);
      });
    }
    return layer;
  } finally {
    await rm(upperdir, { recursive: true, force: true });
  }
}

/** Where compressed gzip members of earlier layers are kept (under the store's base), emptied by prune. */
export const MEMBER_CACHE = 'gzip-members';

/** Compressed gzip members of earlier layers, so that rebuilding a big layer deflates only what changed. */
const memberCache = (store: Store): MemberCache => ({
  dir: join(store.paths.base, MEMBER_CACHE),
  tmpDir: store.paths.tmp,
});

/**
 * Writes entries as a layer blob into the store. Its snapshot is made only with `snapshot` (a later
 * step will mount the layer): then the tar bytes are written out as the snapshot while they are being
 * deflated, rather than read back from the blob afterwards. Otherwise one is extracted from the blob
 * if a later build ever mounts it. Returns undefined for no entries: no layer.
 */
export async function writeLayerBlob(
  store: Store,
  entries: readonly LayerEntry[],
  epoch: number,
  timings?: LayerTimings,
  options: { snapshot?: boolean } = {},
): Promise<Layer | undefined> {
  if (entries.length === 0) return undefined;
  const started = performance.now();
  const file = join(store.paths.tmp, `layer-${process.pid}-${randomBytes(6).toString('hex')}.tar.gz`);
  const snapshotDir = options.snapshot ? await scratchDir(store, 'snapshot') : undefined;
  const snapshot = snapshotDir ? lowerdirWriter(snapshotDir, 'being written') : undefined;
  try {
    const written = await writeLayer(entries, file, {
      epoch,
      members: memberCache(store),
      ...(snapshot ? { onTar: (chunk: Buffer) => snapshot.push(chunk) } : {}),
    });
    // writeLayer hashed what it wrote: the file moves into the store as it is.
    await store.adoptBlob(file, written.digest);
    if (snapshot) {
      await snapshot.finish();
      await chmod(snapshotDir!, 0o755); // as an extracted one: the root of a lowerdir is the image's /
      await store.ensureSnapshot(snapshotId(written.diffId), async (dir) => {
        await rmdir(dir);
        await rename(snapshotDir!, dir);
      });
    }
    return { digest: written.digest, diffId: written.diffId, size: written.size, mediaType: written.mediaType };
  } catch (error) {
    snapshot?.abort();
    throw error;
  } finally {
    await rm(file, { force: true });
    if (snapshotDir) await rm(snapshotDir, { recursive: true, force: true });
    if (timings) timings.layerMs += performance.now() - started;
  }
}
