/**
 * A persistent map from a file's identity and timestamps to its content digest, so a build that
 * changes nothing reads no file content. An entry is trusted only while the file's device, inode,
 * size, mtime and ctime (nanoseconds) are all unchanged; ctime catches a rewrite that restores
 * mtime. The file is one JSON document written atomically (temp file + rename); a missing or
 * unreadable cache is an empty one, since it can always be rebuilt.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, sep } from 'node:path';

export interface FileStat {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

interface Entry {
  /** `dev:ino:size:mtimeNs:ctimeNs`: compared as one string, and loaded without parsing numbers. */
  sig: string;
  digest: string;
}

const VERSION = 2;

function signature(stat: FileStat): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
}
/**
 * File timestamps come from the kernel's coarse clock (one tick, up to 10 ms, behind): a file
 * hashed within a tick of its last change could change again with the same timestamps. Such
 * "racily clean" digests (git's term) are used but not remembered.
 */
const RACY_NS = 50_000_000n;

export class StatCache {
  private entries = new Map<string, Entry>();
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
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return cache;
      throw e;
    }
    try {
      const doc = JSON.parse(text) as { version?: number; entries?: Record<string, unknown> };
      if (doc.version !== VERSION || typeof doc.entries !== 'object' || doc.entries === null) return cache;
      for (const [path, v] of Object.entries(doc.entries)) {
        if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') {
          cache.entries.set(path, { sig: v[0], digest: v[1] });
        }
      }
    } catch {
      // A corrupt cache is only lost time.
      cache.entries.clear();
    }
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The digest recorded for `absPath` if its stat still matches. */
  get(absPath: string, stat: FileStat): string | undefined {
    const e = this.entries.get(absPath);
    return e !== undefined && e.sig === signature(stat) ? e.digest : undefined;
  }

  /**
   * Records a digest computed from content read after `stat` was taken at `statAtNs` (wall
   * clock, ns). Racily clean results are not recorded (see RACY_NS).
   */
  set(absPath: string, stat: FileStat, digest: string, statAtNs: bigint): void {
    const changed = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
    if (statAtNs - changed < RACY_NS) {
      if (this.entries.delete(absPath)) this.dirty = true;
      return;
    }
    this.entries.set(absPath, { sig: signature(stat), digest });
    this.dirty = true;
  }

  /**
   * Forgets absolute `paths` (and everything below any that is a directory), for watch mode: the
   * next digest reads exactly those files again, whatever their stat says.
   */
  invalidate(paths: Iterable<string>): void {
    for (const path of paths) {
      if (this.entries.delete(path)) this.dirty = true;
      const prefix = path.endsWith(sep) ? path : path + sep;
      for (const key of this.entries.keys()) {
        if (key.startsWith(prefix)) {
          this.entries.delete(key);
          this.dirty = true;
        }
      }
    }
  }

  /** Writes the cache if it changed: a temp file next to it, then rename (atomic on one filesystem). */
  async save(): Promise<void> {
    if (this.file === undefined || !this.dirty) return;
    const entries: Record<string, [string, string]> = {};
    for (const [path, e] of [...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      entries[path] = [e.sig, e.digest];
    }
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify({ version: VERSION, entries }));
      await rename(tmp, this.file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    this.dirty = false;
  }
}
