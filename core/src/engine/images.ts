/**
 * Images a build reads (stage bases, `COPY --from=<image>`, mounts from an image), by pinned digest:
 * manifest, config and layer blobs fetched into the store once; a later build with the same pin
 * reads them from the store and makes no request.
 */
import { PassThrough } from 'node:stream';
import { applyLayerStreamAsLowerdir, type HistoryEntry, type LayerXattrs } from '../oci/index.js';
import { formatPlatform, parseReference, withDigest, type RegistryClient } from '../registry/index.js';
import { isStoreError, type Store } from '../store/index.js';
import type { RuntimeConfig } from './image-config.js';
import { keepLayerXattrs } from './layer-xattrs.js';
import { snapshotId, type Layer } from './layers.js';

export interface PulledImage {
  ref: string;
  manifestDigest: string;
  layers: Layer[];
  config: RuntimeConfig;
  history: HistoryEntry[];
  platform: { os: string; architecture: string; variant?: string };
}

interface ManifestJson {
  config: { digest: string; size: number };
  layers: { digest: string; size: number; mediaType: string }[];
}

interface ConfigJson {
  os: string;
  architecture: string;
  variant?: string;
  config?: RuntimeConfig;
  rootfs: { diff_ids: string[] };
  history?: HistoryEntry[];
}

/** Blob bytes from the store, else from the registry (verified), then kept in the store. */
/** The blob's bytes if the store has it (verified), undefined if not. */
async function storedBlob(store: Store, digest: string): Promise<Buffer | undefined> {
  try {
    return await store.readBlobBytes(digest);
  } catch (error) {
    if (isStoreError(error, 'ENOTFOUND')) return undefined;
    throw error;
  }
}

async function blobBytes(
  store: Store,
  client: RegistryClient,
  ref: string,
  d: { digest: string; size: number },
): Promise<Buffer> {
  const stored = await storedBlob(store, d.digest);
  if (stored) return stored;
  const bytes = await client.fetchBlobBytes(ref, d);
  await store.putBlob(bytes, d);
  return bytes;
}

export async function pullImage(
  store: Store,
  client: RegistryClient,
  ref: string,
  manifestDigest: string,
): Promise<PulledImage> {
  let manifestBytes = await storedBlob(store, manifestDigest);
  if (!manifestBytes) {
    const resolved = await client.resolve(withDigest(parseReference(ref), manifestDigest));
    if (resolved.digest !== manifestDigest) {
      throw new Error(`${ref}: registry returned manifest ${resolved.digest}, pinned ${manifestDigest}`);
    }
    manifestBytes = resolved.manifestBytes;
    await store.putBlob(manifestBytes, { digest: manifestDigest });
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ManifestJson;
  const config = JSON.parse((await blobBytes(store, client, ref, manifest.config)).toString('utf8')) as ConfigJson;
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new Error(
      `${ref}@${manifestDigest}: ${manifest.layers.length} layers but ${config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  const layers = await Promise.all(
    manifest.layers.map(async (d, i): Promise<Layer> => {
      const layer = { digest: d.digest, diffId: config.rootfs.diff_ids[i]!, size: d.size, mediaType: d.mediaType };
      if (!(await store.hasBlob(d.digest))) await fetchLayer(store, client, ref, layer);
      return layer;
    }),
  );
  // What keeps the image's blobs (and snapshots, by diff_id) through `drydock prune`; written once
  // per image (content-addressed: it never changes), touched when used again.
  await store.keepRecord(`pull:${manifestDigest}`, () => ({
    blobs: [manifestDigest, manifest.config.digest, ...layers.map((l) => l.digest)],
    diffIds: layers.map((l) => l.diffId),
  }));
  return {
    ref,
    manifestDigest,
    layers,
    config: config.config ?? {},
    history: config.history ?? [],
    platform: {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    },
  };
}

/**
 * Downloads a layer into the store and, from the same bytes as they arrive, extracts its snapshot
 * (the overlay lowerdir a build needs next): the download and the extraction overlap instead of
 * running one after the other. The snapshot is kept only once the blob's digest checked out (and
 * its tar's diff_id). The snapshot lock is taken first: when another process holds it, or the
 * snapshot exists, the blob is fetched alone and nothing waits on an unread extraction.
 */
async function fetchLayer(store: Store, client: RegistryClient, ref: string, layer: Layer): Promise<void> {
  let extracting = false;
  let xattrs: LayerXattrs | undefined;
  const id = snapshotId(layer.diffId);
  const path = await store.ensureSnapshot(id, async (dir) => {
    extracting = true;
    const source = client.fetchBlob(ref, layer);
    const toBlob = new PassThrough();
    const toTree = new PassThrough();
    source.on('error', (error) => {
      toBlob.destroy(error);
      toTree.destroy(error);
    });
    source.pipe(toBlob);
    source.pipe(toTree);
    // Either side failing stops the download, and both are settled before this returns.
    const stored = store.putBlob(toBlob, layer).catch((error: unknown) => {
      source.destroy(error as Error);
      throw error;
    });
    const tree = applyLayerStreamAsLowerdir(toTree, dir, layer.diffId, `${ref} layer ${layer.digest}`).catch(
      (error: unknown) => {
        source.destroy(error as Error);
        throw error;
      },
    );
    const [blob, extracted] = await Promise.allSettled([stored, tree]);
    if (blob.status === 'rejected') throw blob.reason;
    if (extracted.status === 'rejected') throw extracted.reason;
    xattrs = extracted.value;
  });
  if (xattrs) void keepLayerXattrs(store, id, path, xattrs).catch(() => {});
  if (!extracting) await store.putBlob(() => client.fetchBlob(ref, layer), layer);
}

export const platformString = (p: PulledImage['platform']): string => formatPlatform(p);
