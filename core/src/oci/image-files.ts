import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../graph/hash.js';
import { digestHex, sha256 } from './digest.js';
import type { LayerEntry } from './entry.js';
import { MEDIA_TYPES, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from './media-types.js';
import type { Descriptor, ImageManifest } from './manifest.js';

/** A built image as the output writers take it: the exact bytes of manifest and config, and every layer blob. */
export interface ImageSource {
  manifest: Buffer;
  config: Buffer;
  /** Opens a layer blob by digest (the store's job); its bytes are verified against the digest. */
  blobs: (digest: string) => Readable;
}

/** A tag as a docker-archive RepoTag (`name:tag`) and as an OCI layout ref name (`tag`). */
export interface ImageTag {
  /** OCI `org.opencontainers.image.ref.name`, e.g. `1.0` (what `oci:dir:1.0` selects). */
  ref: string;
  /** Full name for docker (`registry/name:tag`); optional for OCI-only outputs. */
  name?: string;
}

/** Fails the stream when the bytes do not hash to `digest`: a corrupt store must not produce an image. */
class VerifyDigest extends Transform {
  readonly #hash = createHash('sha256');
  constructor(readonly expected: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const actual = `sha256:${this.#hash.digest('hex')}`;
    cb(actual === this.expected ? null : new Error(`blob ${this.expected}: content hashes to ${actual}`));
  }
}

const file = (path: string, bytes: Buffer): LayerEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: bytes.length,
  content: () => Readable.from([bytes]),
});

export function parseManifest(bytes: Buffer): ImageManifest {
  const manifest = JSON.parse(bytes.toString('utf8')) as ImageManifest;
  if (manifest.schemaVersion !== 2 || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new Error('not an OCI image manifest');
  }
  return manifest;
}

/**
 * The files of an OCI image layout holding one image (oci-layout, index.json, blobs/sha256/*), in a
 * fixed order, as entries any output can write: a directory, an OCI archive, a docker archive.
 */
export function ociLayoutEntries(image: ImageSource, tags: readonly ImageTag[]): LayerEntry[] {
  const manifest = parseManifest(image.manifest);
  const manifestDigest = sha256(image.manifest);
  if (sha256(image.config) !== manifest.config.digest) throw new Error('config bytes do not match the manifest');
  const descriptor = (annotations?: Record<string, string>): Descriptor => ({
    mediaType: MEDIA_TYPES.imageManifest,
    digest: manifestDigest,
    size: image.manifest.length,
    ...(annotations ? { annotations } : {}),
  });
  const manifests =
    tags.length === 0
      ? [descriptor()]
      : tags.map((t) =>
          descriptor({ [REF_NAME_ANNOTATION]: t.ref, ...(t.name ? { 'io.containerd.image.name': t.name } : {}) }),
        );
  const index = Buffer.from(canonicalJson({ schemaVersion: 2, mediaType: MEDIA_TYPES.imageIndex, manifests }));
  const blobs = new Map<string, LayerEntry>();
  const blob = (d: string, entry: Omit<LayerEntry, 'path'>) =>
    blobs.set(d, { ...entry, path: `blobs/sha256/${digestHex(d)}` });
  blob(manifestDigest, file('', image.manifest));
  blob(manifest.config.digest, file('', image.config));
  for (const layer of manifest.layers) {
    blob(layer.digest, {
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: layer.size,
      content: () => image.blobs(layer.digest).pipe(new VerifyDigest(layer.digest)),
    });
  }
  const dir = (path: string): LayerEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0 });
  return [
    dir('blobs'),
    dir('blobs/sha256'),
    ...blobs.values(),
    file('index.json', index),
    file('oci-layout', Buffer.from(canonicalJson({ imageLayoutVersion: OCI_LAYOUT_VERSION }))),
  ];
}
