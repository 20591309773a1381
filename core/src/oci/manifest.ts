import { canonicalJson } from '../graph/hash.js';
import { sha256 } from './digest.js';
import { MEDIA_TYPES } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: typeof MEDIA_TYPES.imageManifest;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** An OCI image manifest; layers in order, base first. */
export function buildManifest(
  config: Descriptor,
  layers: Descriptor[],
  annotations?: Record<string, string>,
): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.imageManifest,
    config,
    layers,
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/** Canonical bytes of a manifest and its descriptor (what an index or a registry tag points at). */
export function serializeManifest(manifest: ImageManifest): { bytes: Buffer; descriptor: Descriptor } {
  const bytes = Buffer.from(canonicalJson(manifest), 'utf8');
  return { bytes, descriptor: { mediaType: MEDIA_TYPES.imageManifest, digest: sha256(bytes), size: bytes.length } };
}
