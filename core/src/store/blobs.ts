// Content-addressed blobs: `blobs/sha256/<hex>`. The name is the content's sha256, checked when the blob
// is written (always) and when it is read through `readBlob` (streaming: the check completes at the end).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncDir, fsyncPath, tmpName } from './atomic.js';
import { StoreError, hasErrno } from './errors.js';
import { digestHex, type StorePaths } from './paths.js';

export type BlobSource = Buffer | Readable | (() => Readable);

export interface BlobInfo {
  readonly digest: string;
  readonly size: number;
}

export const blobPath = (paths: StorePaths, digest: string): string => join(paths.blobs, digestHex(digest));

// A stat in this thread: the solver asks it of every cached step's layer, one step after another,
// and a thread-pool round trip each would wait behind whatever holds the event loop.
export const statBlob = async (paths: StorePaths, digest: string): Promise<BlobInfo | undefined> => {
  const st = statSync(blobPath(paths, digest), { throwIfNoEntry: false });
  return st && { digest, size: st.size };
};

/** Hashes and counts what passes through; fails early once more than `limit` bytes arrive. */
class Measure extends Transform {
  readonly hash: Hash = createHash('sha256');
  size = 0;
  constructor(private readonly limit?: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.limit !== undefined && this.size > this.limit) {
      callback(new StoreError('ESIZE', `blob is larger than the expected ${this.limit} bytes`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

const toStream = (source: BlobSource): Readable =>
  Buffer.isBuffer(source) ? Readable.from([source]) : typeof source === 'function' ? source() : source;

export const putBlob = async (
  paths: StorePaths,
  source: BlobSource,
  expected: { digest?: string; size?: number } = {},
): Promise<BlobInfo> => {
  if (expected.digest !== undefined) {
    digestHex(expected.digest);
    // Known digest already present: skip the transfer. A Readable handed to us is ours to end.
    const existing = await statBlob(paths, expected.digest);
    if (existing && (expected.size === undefined || existing.size === expected.size)) {
      if (source instanceof Readable) source.destroy();
      return existing;
    }
  }
  const tmp = tmpName(paths.tmp, 'blob');
  try {
    const measure = new Measure(expected.size);
    await pipeline(toStream(source), measure, createWriteStream(tmp, { flags: 'wx', mode: 0o444 }));
    const digest = `sha256:${measure.hash.digest('hex')}`;
    if (expected.size !== undefined && measure.size !== expected.size) {
      throw new StoreError('ESIZE', `blob has ${measure.size} bytes, expected ${expected.size}`);
    }
    if (expected.digest !== undefined && digest !== expected.digest) {
      throw new StoreError('EDIGEST', `blob content is ${digest}, expected ${expected.digest}`);
    }
    await publish(paths, tmp, digest);
    return { digest, size: measure.size };
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
};

/**
 * Moves a file this process wrote and hashed itself (a layer it just compressed) into the store
 * under `digest`, without copying or hashing it again: fsync, rename, fsync the directory. The
 * file must be in the store's tmp/ (same file system). A blob that is already there wins; the file
 * is removed either way. Reads still verify the digest, as for any blob.
 */
export const adoptBlob = async (paths: StorePaths, file: string, digest: string): Promise<BlobInfo> => {
  digestHex(digest);
  try {
    const { size } = await stat(file);
    await publish(paths, file, digest);
    return { digest, size };
  } finally {
    await unlink(file).catch(() => {});
  }
};

/**
 * A complete, verified file in tmp/ becomes blob `digest`: data fsynced, then renamed into place and
 * the directory fsynced. If the blob is already there (another process stored it first: identical
 * by construction), theirs is kept and the file removed.
 */
async function publish(paths: StorePaths, tmp: string, digest: string): Promise<void> {
  await fsyncPath(tmp);
  if (await statBlob(paths, digest)) {
    await unlink(tmp);
    return;
  }
  await chmod(tmp, 0o444);
  // rename over an identical concurrent copy is harmless: both are the same bytes.
  await rename(tmp, blobPath(paths, digest));
  await fsyncDir(paths.blobs);
}

/**
 * A stream of the blob that verifies as it reads: if the bytes do not hash to `digest`, the stream ends
 * with an EDIGEST StoreError instead of `end`, and the corrupt file is deleted so the next pull refetches
 * it. Consumers must treat the data as untrusted until the stream ends cleanly.
 */
export const readBlob = (paths: StorePaths, digest: string): Readable => {
  const path = blobPath(paths, digest);
  const hash = createHash('sha256');
  const verify = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      corrupt(path, digest, `sha256:${hash.digest('hex')}`).then(callback, callback);
    },
  });
  const file = createReadStream(path);
  file.on('error', (error) => verify.destroy(notFound(error, digest)));
  // pipeline (not pipe) so that a consumer destroying the stream early also closes the file.
  pipeline(file, verify).catch(() => {});
  return verify;
};

/**
 * The whole blob, verified as readBlob verifies it: for the small ones a build reads whole
 * (manifests, configs), without a stream's set-up.
 */
export const readBlobBytes = async (paths: StorePaths, digest: string): Promise<Buffer> => {
  const path = blobPath(paths, digest);
  let bytes: Buffer;
  try {
    // In one call, not four thread-pool round trips (see context/index.ts ignorePatterns).
    bytes = readFileSync(path);
  } catch (error) {
    throw notFound(error, digest);
  }
  const error = await corrupt(path, digest, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
  if (error) throw error;
  return bytes;
};

const notFound = (error: unknown, digest: string): Error =>
  hasErrno(error, 'ENOENT') ? new StoreError('ENOTFOUND', `blob ${digest} is not in the store`) : (error as Error);

/** Undefined when the content hashed to its name; otherwise the error, once the corrupt file is gone. */
const corrupt = async (path: string, digest: string, actual: string): Promise<StoreError | undefined> => {
  if (actual === digest) return undefined;
  const removed = await unlink(path).then(
    () => true,
    () => false,
  );
  return new StoreError('EDIGEST', `blob ${digest} is corrupt (content is ${actual})${removed ? '; removed it' : ''}`);
};
