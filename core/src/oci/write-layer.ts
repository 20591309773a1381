import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DigestStream } from './digest.js';
import { sortEntries, type LayerEntry } from './entry.js';
import { MEDIA_TYPES } from './media-types.js';
import { gzipMembers, MEMBER_SPLIT, type MemberCache } from './members.js';
import { tarMemberChunks } from './tar-writer.js';

export interface WriteLayerOptions {
  /** Seconds since 1970: SOURCE_DATE_EPOCH, or a fixed epoch. Every mtime is clamped to it. */
  epoch: number;
  /** Compressed members of earlier layers: members found there are copied instead of deflated. */
  members?: MemberCache | undefined;
  /** Sees every byte of the uncompressed tar, in order, as it is made (e.g. to write the layer's snapshot too). */
  onTar?: ((chunk: Buffer) => void) | undefined;
  /**
   * Called with the diff_id once the last tar byte is made, while the last members may still be
   * deflating: the entries' files have all been read, and the layer's content is known.
   */
  onTarEnd?: ((diffId: string) => void) | undefined;
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
 * byte-identical output. The gzip has several members, cut where members.ts says, with or without a cache.
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
  const tarHash = createHash('sha256');
  const gzDigest = new DigestStream();
  const sink = typeof out === 'string' ? createWriteStream(out) : out;
  let diffId: string | undefined;
  const gzip = gzipMembers(tarMemberChunks(sorted, options.epoch, MEMBER_SPLIT), {
    cache: options.members,
    onTar: (chunk) => {
      tarHash.update(chunk);
      options.onTar?.(chunk);
    },
    onTarEnd: () => {
      diffId = `sha256:${tarHash.digest('hex')}`;
      options.onTarEnd?.(diffId);
    },
  });
  // One compressed member waiting for the sink at most: the in-flight bound lives in gzipMembers.
  await pipeline(Readable.from(gzip, { highWaterMark: 1 }), gzDigest, sink);
  return {
    digest: gzDigest.digest(),
    diffId: diffId!,
    size: gzDigest.size,
    mediaType: MEDIA_TYPES.layerTarGzip,
  };
}
