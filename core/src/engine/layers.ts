/**
 * Layers in the store: a gzip blob (what images are made of) and an extracted snapshot (what overlay
 * mounts as a lowerdir), both named by content. A step's upperdir becomes both at once: its entries
 * are written as the blob, and the directory itself, already in overlay's lowerdir form, is renamed
 * into place as the snapshot instead of being extracted again.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  applyLayerAsLowerdir,
  entriesFromUpperdir,
  layerXattrs,
  lowerdirWriter,
  writeLayer,
  type LayerEntry,
  type LayerXattrs,
  type MemberCache,
} from '../oci/index.js';
import type { Store } from '../store/index.js';
import { keepLayerXattrs, recallLayerXattrs } from './layer-xattrs.js';

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

/**
 * A fresh directory under the store's tmp/ (same file system as snapshots, so renames work). Made
 * synchronously: steps make theirs on the critical path, where an await waits behind other work.
 */
export function scratchDir(store: Store, prefix: string): string {
  const dir = join(store.paths.tmp, `${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/** The lowerdir of a layer, extracted from its blob if it is not in the store yet. */
export async function layerSnapshot(store: Store, layer: Layer): Promise<string> {
  const id = snapshotId(layer.diffId);
  let xattrs: LayerXattrs | undefined;
  const path = await store.ensureSnapshot(id, async (dir) => {
    const blob = store.blobPath(layer.digest);
    if (!(await store.hasBlob(layer.digest))) throw new Error(`layer blob ${layer.digest} is missing from the store`);
    xattrs = await applyLayerAsLowerdir(blob, dir);
  });
  // Lookups in this layer then ask no getfattr (layer-xattrs.ts); only time is lost if that record is not written.
  if (xattrs) void keepLayerXattrs(store, id, path, xattrs).catch(() => {});
  else await recallLayerXattrs(store, id, path);
  return path;
}

/**
 * A layer as a step hands it on: its content is known (the diff_id) and, when asked for, its
 * snapshot is in place, so the next step can start; the blob may still be deflating. `layer`
 * resolves once the blob is in the store (nothing may record the layer before that).
 */
export interface LayerWrite {
  diffId: string;
  /** The snapshot's path, when the layer was written with one. */
  snapshot?: string;
  layer: Promise<Layer>;
}

/**
 * Turns a step's upperdir into a layer: blob and snapshot. Undefined when the step changed nothing
 * (no layer, as BuildKit drops empty layers). The upperdir is consumed either way: once its files
 * are read into the tar, it is renamed into place as the snapshot (it already is in overlay's
 * lowerdir form), not extracted again.
 */
export async function commitUpperdir(
  store: Store,
  upperdir: string,
  epoch: number,
  timings?: LayerTimings,
): Promise<LayerWrite | undefined> {
  try {
    return await startLayer(store, await entriesFromUpperdir(upperdir), epoch, timings, { upperdir });
  } catch (error) {
    await rm(upperdir, { recursive: true, force: true });
    throw error;
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
 * Writes entries as a layer into the store, and returns as soon as the tar is made (see LayerWrite).
 * A snapshot is made only when asked: `tee` writes the tar bytes out as one while they are being
 * deflated, rather than reading them back from the blob afterwards (a later step will mount the
 * layer); `upperdir` renames the directory the entries were read from. Otherwise one is extracted
 * from the blob if a later build ever mounts the layer. Undefined for no entries: no layer.
 */
export async function startLayer(
  store: Store,
  entries: readonly LayerEntry[],
  epoch: number,
  timings?: LayerTimings,
  options: { snapshot?: 'tee'; upperdir?: undefined } | { snapshot?: undefined; upperdir: string } = {},
): Promise<LayerWrite | undefined> {
  if (entries.length === 0) {
    if (options.upperdir) await rm(options.upperdir, { recursive: true, force: true });
    return undefined;
  }
  const started = performance.now();
  const file = join(store.paths.tmp, `layer-${process.pid}-${randomBytes(6).toString('hex')}.tar.gz`);
  const teeDir = options.snapshot === 'tee' ? scratchDir(store, 'snapshot') : undefined;
  const tee = teeDir ? lowerdirWriter(teeDir, 'being written') : undefined;
  // The directory that becomes the snapshot, if any, complete once the tar is.
  const snapshotFrom = teeDir ?? options.upperdir;

  let tarEnd!: (diffId: string) => void;
  const tarMade = new Promise<string>((resolve) => (tarEnd = resolve));
  const placed = (async () => {
    const diffId = await tarMade;
    if (snapshotFrom === undefined) return { diffId };
    if (tee) await tee.finish();
    // As an extracted one: the root of a lowerdir is the image's /.
    chmodSync(snapshotFrom, 0o755);
    const snapshot = await store.adoptSnapshot(snapshotId(diffId), snapshotFrom);
    // The next steps look this layer up (lowerdir-view.ts), and so will a later process's: its
    // entries say what getfattr would. Only time is lost if the record is not written.
    void keepLayerXattrs(store, snapshotId(diffId), snapshot, layerXattrs(entries)).catch(() => {});
    return { diffId, snapshot };
  })();

  const layer = (async (): Promise<Layer> => {
    try {
      const written = await writeLayer(entries, file, {
        epoch,
        members: memberCache(store),
        ...(tee ? { onTar: (chunk: Buffer) => tee.push(chunk) } : {}),
        onTarEnd: tarEnd,
      });
      // writeLayer hashed what it wrote: the file moves into the store as it is.
      await store.adoptBlob(file, written.digest);
      await placed;
      return { digest: written.digest, diffId: written.diffId, size: written.size, mediaType: written.mediaType };
    } catch (error) {
      tee?.abort();
      throw error;
    } finally {
      await rm(file, { force: true });
      // Gone once renamed into the store; left here only by a failure.
      if (snapshotFrom) await rm(snapshotFrom, { recursive: true, force: true });
      if (timings) timings.layerMs += performance.now() - started;
    }
  })();
  // Awaited by whoever records the layer; until then a failure must not count as unhandled.
  layer.catch(() => {});
  placed.catch(() => {});
  // Whichever fails first is the error: the tar (before its end) or the snapshot.
  const early = await Promise.race([placed, layer.then(() => placed)]);
  return { ...early, layer };
}
