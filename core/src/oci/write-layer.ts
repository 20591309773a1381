import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestStream } from './digest.js';
import { sortEntries, type LayerEntry } from './entry.js';
import { DeterministicGzip } from './gzip.js';
import { MEDIA_TYPES } from './media-types.js';
import { tarChunks } from './tar-writer.js';

export interface WriteLayerOptions {
  /** Seconds since 1970: SOURCE_DATE_EPOCH, or a fixed epoch. Every mtime is clamped to it. */
  epoch: number;
}

export interface WrittenLayer {
  /** sha256 of the gzip stream: the blob digest in the manifest. */
  digest: string;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
  /** Bytes of the gzip stream. */
  size: number;
  mediaType: typeof MEDIA_TYPES.layerTarGzip;
}

/**
 * Writes entries as a gzip-compressed layer tar. Entries are collected (metadata only; content is
 * opened lazily) and sorted, so the walk order of the source never matters: the same entries give
 * byte-identical output.
 */
export async function writeLayer(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  out: Writable | string,
  options: WriteLayerOptions,
): Promise<WrittenLayer> {
  if (!Number.isInteger(options.epoch) || options.epoch < 0) {
    throw new Error(`layer epoch must be a non-negative integer of seconds, got ${options.epoch}`);
  }
  const sorted = await sortEntries(entries);
  const tarDigest = new DigestStream();
  const gzDigest = new DigestStream();
  const sink = typeof out === 'string' ? createWriteStream(out) : out;
  await pipeline(Readable.from(tarChunks(sorted, options.epoch)), tarDigest, new DeterministicGzip(), gzDigest, sink);
  return {
    digest: gzDigest.digest(),
    diffId: tarDigest.digest(),
    size: gzDigest.size,
    mediaType: MEDIA_TYPES.layerTarGzip,
  };
}
