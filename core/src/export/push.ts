// pushImage: every blob of a built image (config and layers) into each target repository, skipping
// what the registry has and mounting from related repositories, then the manifest under each tag.
import { Readable } from 'node:stream';
import { MEDIA_TYPES, sha256, type Descriptor, type ImageSource } from '../oci/index.js';
import { formatReference, parseReference, type ImageReference, type RegistryClient } from '../registry/index.js';
import { ExportError } from './errors.js';

export type BlobPushState = 'exists' | 'mounted' | 'uploaded';

export interface PushProgressEvent {
  digest: string;
  state: BlobPushState;
  size: number;
  /** `registry/repository` the blob is now in. */
  repository: string;
  /** The repository it was mounted from (state `mounted`). */
  mountedFrom?: string;
  kind: 'config' | 'layer';
}

export interface PushImageOptions {
  client: RegistryClient;
  image: ImageSource;
  /** Where to push: `registry/repository:tag` (or `@digest`, which must be the manifest's). */
  refs: string[];
  /**
   * References (tag/digest ignored) of repositories that may already hold some blobs, e.g. the base
   * image's. Per target registry, the first one on that registry is offered for a cross-repo mount;
   * a repository this call already pushed to wins over them (it has every blob).
   */
  mountFrom?: string[];
  onProgress?: (e: PushProgressEvent) => void;
  /** Stops before the next blob or manifest and cuts blob uploads under way. */
  signal?: AbortSignal;
  /** Blobs uploaded at once per repository (default 3). */
  concurrency?: number;
}

export interface PushImageResult {
  /** sha256 of the manifest bytes: what every ref now points at. */
  digest: string;
  /** The refs, fully qualified (`127.0.0.1:5000/app:v1`), in the order they were pushed. */
  refs: string[];
}

interface Blob {
  descriptor: Pick<Descriptor, 'digest' | 'size'>;
  kind: 'config' | 'layer';
  open: () => Readable;
}

function parseRefs(refs: readonly string[]): ImageReference[] {
  if (refs.length === 0) throw new ExportError('ETAG', 'push: no reference to push to');
  return refs.map((ref) => {
    try {
      return parseReference(ref);
    } catch (error) {
      throw new ExportError('ETAG', `push: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** Cuts the stream when `signal` aborts, so an upload under way fails at once. */
function abortable(open: () => Readable, signal: AbortSignal | undefined): () => Readable {
  if (!signal) return open;
  return () => {
    signal.throwIfAborted();
    const stream = open();
    const onAbort = () => stream.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
    return stream;
  };
}

/** Runs `work` over `items`, `limit` at a time; stops taking new items after the first failure. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
}

export async function pushImage(o: PushImageOptions): Promise<PushImageResult> {
  const { client, image, signal } = o;
  const targets = parseRefs(o.refs);
  const manifest = JSON.parse(image.manifest.toString('utf8')) as {
    mediaType?: string;
    config?: Descriptor;
    layers?: Descriptor[];
  };
  if (!manifest.config || !Array.isArray(manifest.layers)) throw new Error('push: not an image manifest');
  if (sha256(image.config) !== manifest.config.digest) throw new Error('push: config bytes do not match the manifest');
  const mediaType = manifest.mediaType ?? MEDIA_TYPES.imageManifest;
  const digest = sha256(image.manifest);

  const blobs: Blob[] = [{ descriptor: manifest.config, kind: 'config', open: () => Readable.from([image.config]) }];
  const seen = new Set([manifest.config.digest]);
  for (const layer of manifest.layers) {
    if (seen.has(layer.digest)) continue;
    seen.add(layer.digest);
    blobs.push({ descriptor: layer, kind: 'layer', open: () => image.blobs(layer.digest) });
  }

  const mountCandidates = (o.mountFrom ?? []).map((ref) => {
    try {
      return parseReference(ref);
    } catch (error) {
      throw new ExportError('ETAG', `push: mountFrom: ${(error as Error).message}`, { cause: error });
    }
  });
  // One blob pass per repository, in the order the refs name them; then a manifest PUT per ref.
  const repositories = new Map<string, ImageReference[]>();
  for (const ref of targets) {
    const key = `${ref.registry}/${ref.repository}`;
    repositories.set(key, [...(repositories.get(key) ?? []), ref]);
  }
  const pushedRepos: ImageReference[] = [];
  const pushed: string[] = [];
  try {
    for (const [repository, refs] of repositories) {
      const target = refs[0]!;
      const from =
        pushedRepos.find((r) => r.registry === target.registry) ??
        mountCandidates.find((r) => r.registry === target.registry && r.repository !== target.repository);
      await pool(blobs, o.concurrency ?? 3, async (blob) => {
        signal?.throwIfAborted();
        const result = await client.pushBlob(
          target,
          blob.descriptor,
          abortable(blob.open, signal),
          from ? { mountFrom: from.repository } : {},
        );
        o.onProgress?.({
          digest: blob.descriptor.digest,
          state: result.outcome,
          size: blob.descriptor.size,
          repository,
          kind: blob.kind,
          ...(result.outcome === 'mounted' && from ? { mountedFrom: `${from.registry}/${from.repository}` } : {}),
        });
      });
      for (const ref of refs) {
        signal?.throwIfAborted();
        const got = await client.pushManifest(ref, image.manifest, mediaType);
        if (got !== digest) throw new Error(`push: ${formatReference(ref)} stored manifest ${got}, expected ${digest}`);
        pushed.push(formatReference(ref));
      }
      pushedRepos.push(target);
    }
  } catch (error) {
    // An abort surfaces as whatever the cut upload raised (often after the client's retries): say abort.
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
  return { digest, refs: pushed };
}
