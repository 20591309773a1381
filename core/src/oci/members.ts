// Layers are multi-member gzip files (RFC 1952 §2.2: a gzip file is a series of members, and Go's
// compress/gzip, which docker, containerd, skopeo and umoci use, GNU gzip, pigz and node's gunzip all read
// them as one stream). Members end at points chosen by the entries alone, so editing one file changes one
// member: members are deflated in parallel, and with a cache, a member whose bytes were deflated before is
// copied instead. The output never depends on the cache or on the parallelism.
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { gzipMember, isGzipMemberOf } from './gzip.js';
import type { LayerEntry } from './entry.js';
import { MEMBER_END, type MemberSplit, type TarPiece } from './tar-writer.js';

/** Average member size, uncompressed: each member restarts deflate's dictionary, so not much smaller. */
const TARGET = 1 << 20;
/** A member ends at the first entry boundary past this, whatever the path hashes say. */
const CAP = 4 << 20;

/** FNV-1a over the path's UTF-16 code units, then murmur3's finalizer so that the low bits are well mixed. */
function pathHash(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Files this large are members of their own (and so are cached, see MIN_CACHED). */
const OWN_MEMBER = 64 * 1024;
const ownMember = (entry: LayerEntry): boolean => entry.type === 'file' && (entry.size ?? 0) >= OWN_MEMBER;

/**
 * Where layers are cut. A member ends after an entry with probability (its bytes / TARGET), decided by a
 * hash of its path: members average TARGET whatever the file sizes, and the choice depends on the entry
 * alone (its path, and its size in 512-byte blocks), so an edit moves no boundary unless it changes the
 * entry's block count, and then rarely. The CAP bounds a run of entries whose hashes never cut; files
 * larger than CAP are cut at fixed offsets of their content, so a change inside one stays local too.
 * A file of OWN_MEMBER bytes or more is a member of its own: the same file in another layer with the
 * same header (a build's output copied into the runtime stage) is then the same member, deflated once.
 * Changing any of this changes layer digests (not diff_ids).
 */
export const MEMBER_SPLIT: MemberSplit = {
  fileChunk: CAP,
  cutBefore: ownMember,
  cutAfter: (entry, entryBytes, memberBytes) =>
    ownMember(entry) || memberBytes >= CAP || (pathHash(entry.path) & (TARGET - 1)) < entryBytes,
};

/** Compressed members kept by the sha256 of their uncompressed bytes, to skip deflate when a layer is rebuilt. */
export interface MemberCache {
  /** A directory of its own (created if missing); files in it are only ever added, so deleting it is safe. */
  dir: string;
  /** Where files are written before they are renamed into `dir` (the same file system); default `dir`. */
  tmpDir?: string;
}

// The cached bytes are what this zlib made with gzip.ts's parameters: a newer zlib may compress differently,
// and its output must not mix with an older one's, or a warm cache would give other digests than a cold one.
const FORMAT = `deflate6-zlib-${process.versions.zlib}`.replace(/[^A-Za-z0-9._-]/g, '_');

// Smaller members deflate in about a millisecond: caching them would only fill the directory with the
// members of small layers.
const MIN_CACHED = 64 * 1024;

// Members deflating at once: enough to keep the CPUs busy while this thread tars and hashes the next one,
// and no more than the thread pool's 4 threads (shared with file system calls).
const CONCURRENCY = Math.min(4, Math.max(2, availableParallelism()));
// Uncompressed bytes of the members started and not yet written out, which bounds memory. Members are
// written out in order, so a count of them would leave threads idle behind a big one (sizes range from a
// few KiB to several MiB): finished members wait, and others start, until the bytes say stop.
const MAX_PENDING_BYTES = 16 << 20;

interface OpenCache {
  dir: string;
  tmpDir: string;
  writes: Promise<void>[];
}

async function writeCached(cache: OpenCache, file: string, parts: readonly Buffer[]): Promise<void> {
  const tmp = join(cache.tmpDir, `gzip-member-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      for (const part of parts) await handle.write(part);
      // Published only once on disk: after a crash a name never holds a file with unwritten pages.
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch {
    // The cache only saves time: a member it could not keep is compressed again next time.
    await unlink(tmp).catch(() => {});
  }
}

/**
 * Members this process is deflating or caching, by cache file: a member two layers share (the same
 * large file) is deflated once even when the second layer is written before the first is cached.
 */
const inflight = new Map<string, Promise<Buffer[]>>();

/** One member's gzip bytes, in parts: from the cache when it has them, else deflated (and then cached). */
async function compress(pieces: readonly Buffer[], cache: OpenCache | undefined): Promise<Buffer[]> {
  let crc = 0;
  let length = 0;
  for (const piece of pieces) {
    crc = zlib.crc32(piece, crc);
    length += piece.length;
  }
  if (!cache || length < MIN_CACHED) return gzipMember(pieces, crc);
  const hash = createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  const file = join(cache.dir, hash.digest('hex'));
  const running = inflight.get(file);
  if (running) return running;
  let caching: Promise<void> | undefined;
  const job = (async (): Promise<Buffer[]> => {
    const cached = await readFile(file).catch(() => undefined);
    if (cached && isGzipMemberOf(cached, crc, length)) return [cached];
    const parts = await gzipMember(pieces, crc);
    caching = writeCached(cache, file, parts);
    cache.writes.push(caching);
    return parts;
  })();
  // Shared until the member is in the cache file, where a later layer finds it.
  inflight.set(file, job);
  void job
    .then(
      () => caching,
      () => undefined,
    )
    .finally(() => inflight.delete(file));
  return job;
}

/**
 * The gzip stream for a tar stream cut by MEMBER_END: one member per piece between cuts, in order.
 * `onTar` sees every tar byte, in order (for the diff_id); `onTarEnd` is called after the last one.
 */
export async function* gzipMembers(
  pieces: AsyncIterable<TarPiece>,
  options: { cache?: MemberCache | undefined; onTar: (chunk: Buffer) => void; onTarEnd?: () => void },
): AsyncGenerator<Buffer> {
  let cache: OpenCache | undefined;
  if (options.cache) {
    const dir = join(options.cache.dir, FORMAT);
    await mkdir(dir, { recursive: true });
    cache = { dir, tmpDir: options.cache.tmpDir ?? dir, writes: [] };
  }
  const pending: Array<{ job: Promise<Buffer[]>; bytes: number; done: boolean }> = [];
  let pendingBytes = 0;
  let member: Buffer[] = [];
  let memberBytes = 0;
  const start = (): void => {
    const entry = { job: compress(member, cache), bytes: memberBytes, done: false };
    // Awaited in order below; until then a failure must not count as unhandled.
    entry.job.then(() => (entry.done = true)).catch(() => {});
    pending.push(entry);
    pendingBytes += memberBytes;
    member = [];
    memberBytes = 0;
  };
  const next = async (): Promise<Buffer[]> => {
    const head = pending.shift()!;
    pendingBytes -= head.bytes;
    return head.job;
  };
  try {
    for await (const piece of pieces) {
      if (piece !== MEMBER_END) {
        options.onTar(piece);
        member.push(piece);
        memberBytes += piece.length;
        continue;
      }
      for (;;) {
        while (pending[0]?.done) yield* await next();
        const running = pending.filter((p) => !p.done);
        if (running.length < CONCURRENCY && pendingBytes < MAX_PENDING_BYTES) break;
        await Promise.race(running.map((p) => p.job));
      }
      if (member.length > 0) start();
    }
    if (member.length > 0) start();
    options.onTarEnd?.();
    while (pending.length > 0) yield* await next();
  } finally {
    if (cache) await Promise.all(cache.writes);
  }
}
