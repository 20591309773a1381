/**
 * A persistent map from a file's identity and timestamps to its content digest, so a build that
 * changes nothing reads no file content. An entry is trusted only while the file's device, inode,
 * size, mtime and ctime are all unchanged; ctime catches a rewrite that restores mtime. A missing,
 * unreadable or other-version cache is an empty one, since it can always be rebuilt.
 *
 * Entries are grouped by root directory (a build context), keyed by their path below it: the
 * digest looks files up by the context-relative paths the walk already hashed, not by absolute
 * paths built and hashed anew per file. `get`, `set` and `invalidate` take absolute paths. An
 * entry is only ever used when the stat matches exactly, so a file also recorded under another
 * root (two contexts, one inside the other) can at worst be missed, never wrongly trusted.
 *
 * The file is written atomically (temp file + rename), and only when something changed. It is
 * binary so that loading 20,000 entries costs a few milliseconds, not a JSON parse:
 *   `drydock-stat-cache <VERSION> <endianness> <entries> <text bytes>\n`, space-padded to 8 bytes;
 *   entries × 5 float64 (dev, ino, size, mtimeMs, ctimeMs), in the machine's byte order;
 *   UTF-8 text of NUL-terminated fields (no path holds NUL): per root, the root, its entry count,
 *   then each entry's relative path and digest.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname, join, sep } from 'node:path';

/** What the cache compares; an `fs.Stats` (not bigint) and a walked `ContextEntry` both are one. */
export interface FileStat {
  dev: number;
  ino: number;
  size: number;
  /** ms since the epoch with sub-microsecond fractions, as `fs.Stats` gives them. */
  mtimeMs: number;
  ctimeMs: number;
}

/** The cache seen from one root directory: paths are relative to it (clean, no leading `/`). */
export interface StatCacheRoot {
  get(rel: string, stat: FileStat): string | undefined;
  set(rel: string, stat: FileStat, digest: string, statAtMs: number): void;
}

const VERSION = 3;
const MAGIC = 'drydock-stat-cache';
const FIELDS = 5;

/**
 * File timestamps come from the kernel's coarse clock (one tick, up to 10 ms, behind): a file
 * hashed within a tick of its last change could change again with the same timestamps. Such
 * "racily clean" digests (git's term) are used but not remembered. This window is also why float
 * ms timestamps are precise enough: a remembered stat is at least this old, so any later change
 * moves ctime by far more than a float's resolution (~0.25 µs today).
 */
export const RACY_MS = 50;

export class StatCache {
  /** Root (ending in a separator) → relative path → slot. */
  private roots = new Map<string, Map<string, number>>();
  // Parallel arrays rather than an object per entry: loading is one typed-array copy, and 20,000
  // entries give the garbage collector 20,000 fewer objects to trace. A slot's five numbers are
  // at `stats[slot * FIELDS]`, its digest at `digests[slot]`; forgotten slots are dropped on save.
  private stats = new Float64Array(0);
  private digests: string[] = [];
  private dirty = false;
  /** Files whose content was read since this cache was loaded (for tests and benchmarks). */
  filesRead = 0;
  bytesRead = 0;

  private constructor(readonly file: string | undefined) {}

  /** An empty cache that is never saved. */
  static memory(): StatCache {
    return new StatCache(undefined);
  }

  static async load(file: string): Promise<StatCache> {
    const cache = new StatCache(file);
    let buf: Buffer;
    try {
      // In one call, not four thread-pool round trips (see context/index.ts ignorePatterns).
      buf = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return cache;
      throw e;
    }
    // Anything unexpected (an older version, another machine's byte order, a torn or corrupt
    // file) is only lost time: the cache starts empty.
    if (!cache.decode(buf)) cache.roots.clear();
    return cache;
  }

  get size(): number {
    let n = 0;
    for (const entries of this.roots.values()) n += entries.size;
    return n;
  }

  /** The entries below directory `dir`, by path relative to it. */
  under(dir: string): StatCacheRoot {
    const root = rootOf(dir);
    return {
      get: (rel, stat) => this.lookup(this.roots.get(root), rel, stat),
      set: (rel, stat, digest, statAtMs) => this.record(root, rel, stat, digest, statAtMs),
    };
  }

  /** The digest recorded for `absPath` if its stat still matches (under whichever root holds it). */
  get(absPath: string, stat: FileStat): string | undefined {
    for (const [root, entries] of this.roots) {
      if (!absPath.startsWith(root)) continue;
      const digest = this.lookup(entries, absPath.slice(root.length), stat);
      if (digest !== undefined) return digest;
    }
    return undefined;
  }

  /**
   * Records a digest computed from content read after `stat` was taken at `statAtMs` (wall
   * clock, ms). Racily clean results are not recorded (see RACY_MS).
   */
  set(absPath: string, stat: FileStat, digest: string, statAtMs: number): void {
    let root = rootOf(dirname(absPath));
    for (const known of this.roots.keys()) if (absPath.startsWith(known)) root = known;
    this.record(root, absPath.slice(root.length), stat, digest, statAtMs);
  }

  /**
   * Forgets absolute `paths` (and everything below any that is a directory), for watch mode: the
   * next digest reads exactly those files again, whatever their stat says.
   */
  invalidate(paths: Iterable<string>): void {
    for (const path of paths) {
      const dir = path.endsWith(sep) ? path : path + sep;
      for (const [root, entries] of this.roots) {
        if (root.startsWith(dir)) {
          // The whole root lies below the path.
          if (entries.size) this.dirty = true;
          entries.clear();
        } else if (path.startsWith(root)) {
          const rel = path.slice(root.length);
          const prefix = dir.slice(root.length);
          if (entries.delete(rel)) this.dirty = true;
          for (const key of entries.keys()) {
            if (key.startsWith(prefix)) {
              entries.delete(key);
              this.dirty = true;
            }
          }
        }
      }
    }
  }

  /** Writes the cache if it changed: a temp file next to it, then rename (atomic on one filesystem). */
  async save(): Promise<void> {
    if (this.file === undefined || !this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, this.encode());
      await rename(tmp, this.file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    this.dirty = false;
  }

  private lookup(entries: Map<string, number> | undefined, rel: string, stat: FileStat): string | undefined {
    const slot = entries?.get(rel);
    if (slot === undefined) return undefined;
    const s = this.stats;
    const i = slot * FIELDS;
    return s[i] === stat.dev &&
      s[i + 1] === stat.ino &&
      s[i + 2] === stat.size &&
      s[i + 3] === stat.mtimeMs &&
      s[i + 4] === stat.ctimeMs
      ? this.digests[slot]
      : undefined;
  }

  private record(root: string, rel: string, stat: FileStat, digest: string, statAtMs: number): void {
    let entries = this.roots.get(root);
    if (statAtMs - Math.max(stat.mtimeMs, stat.ctimeMs) < RACY_MS) {
      if (entries?.delete(rel)) this.dirty = true;
      return;
    }
    if (entries === undefined) this.roots.set(root, (entries = new Map()));
    let slot = entries.get(rel);
    if (slot === undefined) {
      slot = this.digests.length;
      entries.set(rel, slot);
      if ((slot + 1) * FIELDS > this.stats.length) {
        const grown = new Float64Array(Math.max(64 * FIELDS, this.stats.length * 2));
        grown.set(this.stats);
        this.stats = grown;
      }
    }
    const i = slot * FIELDS;
    this.stats[i] = stat.dev;
    this.stats[i + 1] = stat.ino;
    this.stats[i + 2] = stat.size;
    this.stats[i + 3] = stat.mtimeMs;
    this.stats[i + 4] = stat.ctimeMs;
    this.digests[slot] = digest;
    this.dirty = true;
  }

  private encode(): Buffer {
    const stats = new Float64Array(this.size * FIELDS);
    const text: string[] = [];
    let n = 0;
    for (const [root, entries] of this.roots) {
      if (entries.size === 0) continue;
      text.push(root, String(entries.size));
      for (const [rel, slot] of entries) {
        for (let f = 0; f < FIELDS; f++) stats[n * FIELDS + f] = this.stats[slot * FIELDS + f]!;
        n++;
        text.push(rel, this.digests[slot]!);
      }
    }
    const body = Buffer.from(text.length ? text.join('\0') + '\0' : '');
    const header = `${MAGIC} ${VERSION} ${endianness()} ${n} ${body.length}`;
    // Padded so the numbers start 8-byte aligned in the file.
    const line = header.padEnd(Math.ceil((header.length + 1) / 8) * 8 - 1) + '\n';
    return Buffer.concat([Buffer.from(line), new Uint8Array(stats.buffer), body]);
  }

  /** Fills an empty cache from `buf`; false if it is not a complete cache of this version. */
  private decode(buf: Buffer): boolean {
    const eol = buf.indexOf(10);
    if (eol < 0 || eol > 200) return false;
    const [magic, version, order, countText, bodyText] = buf.toString('latin1', 0, eol).trimEnd().split(' ');
    const count = Number(countText);
    const start = eol + 1;
    const textStart = start + count * FIELDS * 8;
    if (
      magic !== MAGIC ||
      version !== String(VERSION) ||
      order !== endianness() ||
      !Number.isSafeInteger(count) ||
      textStart + Number(bodyText) !== buf.length
    ) {
      return false;
    }
    const fields = buf.toString('utf8', textStart).split('\0');
    if (fields.pop() !== '') return false;
    // A copy, so the numbers are aligned whatever the buffer's offset in its ArrayBuffer.
    const stats = new Float64Array(count * FIELDS);
    new Uint8Array(stats.buffer).set(buf.subarray(start, textStart));
    const digests = new Array<string>(count);
    let slot = 0;
    let f = 0;
    while (f < fields.length) {
      const root = fields[f++]!;
      const n = Number(fields[f++]);
      if (!Number.isSafeInteger(n) || n <= 0 || slot + n > count || f + 2 * n > fields.length) return false;
      const entries = new Map<string, number>();
      for (const end = slot + n; slot < end; slot++) {
        entries.set(fields[f++]!, slot);
        digests[slot] = fields[f++]!;
      }
      if (entries.size !== n || this.roots.has(root)) return false;
      this.roots.set(root, entries);
    }
    if (slot !== count) return false;
    this.stats = stats;
    this.digests = digests;
    return true;
  }
}

/** `dir` normalized with a trailing separator: `rootOf(dir) + rel` is `join(dir, rel)` for a clean `rel`. */
export function rootOf(dir: string): string {
  return join(dir, '_').slice(0, -1);
}
