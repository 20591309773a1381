/**
 * What a walk of a context saw, kept for the next build: each listed directory's included names,
 * and each entry's device, inode, size, times and mode, plus the digests of the selections made
 * from that state. The next build checks the context against it (readdir and lstat, as a walk, but
 * it builds no index and hashes nothing); when nothing differs, those digests are the selections'
 * digests and the walk, the selection and the hashing are skipped. That is most of a no-op build.
 *
 * Racily clean files (see stat-cache.ts) make a walk unfit for a record: content written within a
 * timestamp tick of the walk could change again with identical stats. No record is kept then.
 *
 * A check lists only the directories whose listing may have changed. Creating, removing or
 * renaming an entry sets its directory's mtime, so a directory with the recorded times still holds
 * the recorded names, and its children are lstat-ed by those names (git's untracked cache does the
 * same). A directory whose times were within a tick of the walk is always listed again, for the
 * reason above. On a 20,000-file tree that skips 1,000 readdir calls, a third of a check.
 *
 * Binary, so that loading 20,000 entries is one copy:
 *   `drydock-walk <VERSION> <endianness> <entries> <text bytes> <memo bytes> <key>\n`, space-padded to 8 bytes;
 *   entries × 6 float64 (dev, ino, size, mtimeMs, ctimeMs, st_mode | MUST_LIST?), in the machine's byte order;
 *   UTF-8 text: per listed directory, depth first with names in walk order, its names joined by `/`
 *   (no name holds one), the directories separated by NUL;
 *   UTF-8 JSON: selection key → digest.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname, join, sep } from 'node:path';
import type { Matcher, ParentMatches } from './dockerignore.js';
import { ASCII, compareNames, joinPath } from './path.js';
import { RACY_MS } from './stat-cache.js';
import { included, type ContextIndex, type EntryType } from './walk.js';

const MAGIC = 'drydock-walk';
const VERSION = 2;
const FIELDS = 6;
const TYPE_BITS: Record<EntryType, number> = { file: 0o100000, dir: 0o040000, symlink: 0o120000 };
/** Above st_mode's 16 bits: set on a directory whose listing a check must read again (racy times). */
const MUST_LIST = 0x10000;

export class WalkRecord {
  private constructor(
    /** Names the walk: the context directory and its ignore rules. */
    readonly key: string,
    private readonly stats: Float64Array,
    private readonly dirs: string[],
    /** Selection key → digest, true of the recorded state. */
    readonly digests: Map<string, string>,
  ) {}

  /** The record of a walked (or refreshed) index, or undefined when a file in it is racily clean. */
  static of(index: ContextIndex, key: string, digests: ReadonlyMap<string, string>): WalkRecord | undefined {
    const stats = new Float64Array(index.entries.size * FIELDS);
    const dirs: string[] = [];
    let n = 0;
    const pending = [''];
    while (pending.length > 0) {
      const rel = pending.pop()!;
      const names = index.children.get(rel);
      if (names === undefined) return undefined;
      dirs.push(names.join('/'));
      const subdirs: string[] = [];
      for (const name of names) {
        const path = joinPath(rel, name);
        const e = index.entries.get(path)!;
        const statAt = index.restatAtMs?.get(path) ?? index.walkedAtMs;
        const racy = statAt - Math.max(e.mtimeMs, e.ctimeMs) < RACY_MS;
        if (e.type === 'file' && racy) return undefined;
        const i = n++ * FIELDS;
        stats[i] = e.dev;
        stats[i + 1] = e.ino;
        stats[i + 2] = e.size;
        stats[i + 3] = e.mtimeMs;
        stats[i + 4] = e.ctimeMs;
        stats[i + 5] = TYPE_BITS[e.type] | e.mode | (e.type === 'dir' && racy ? MUST_LIST : 0);
        if (e.type === 'dir') subdirs.push(path);
      }
      for (let i = subdirs.length - 1; i >= 0; i--) pending.push(subdirs[i]!);
    }
    if (n !== index.entries.size) return undefined;
    return new WalkRecord(key, stats, dirs, new Map(digests));
  }

  /** The record in `file` if it is one of this version for `key`; anything else is no record. */
  static async load(file: string, key: string): Promise<WalkRecord | undefined> {
    let buf: Buffer;
    try {
      // In one call, not four thread-pool round trips (see context/index.ts ignorePatterns).
      buf = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const eol = buf.indexOf(10);
    if (eol < 0 || eol > 300) return undefined;
    const [magic, version, order, countText, textText, memoText, recorded] = buf
      .toString('latin1', 0, eol)
      .trimEnd()
      .split(' ');
    const count = Number(countText);
    const start = eol + 1;
    const textStart = start + count * FIELDS * 8;
    const memoStart = textStart + Number(textText);
    if (
      magic !== MAGIC ||
      version !== String(VERSION) ||
      order !== endianness() ||
      recorded !== key ||
      !Number.isSafeInteger(count) ||
      memoStart + Number(memoText) !== buf.length
    ) {
      return undefined;
    }
    try {
      // A copy, so the numbers are aligned whatever the buffer's offset in its ArrayBuffer.
      const stats = new Float64Array(count * FIELDS);
      new Uint8Array(stats.buffer).set(buf.subarray(start, textStart));
      const dirs = buf.toString('utf8', textStart, memoStart).split('\0');
      const memo = JSON.parse(buf.toString('utf8', memoStart)) as Record<string, string>;
      return new WalkRecord(key, stats, dirs, new Map(Object.entries(memo)));
    } catch {
      return undefined; // torn or corrupt: only lost time
    }
  }

  /**
   * Whether `dir` still is what this record saw: the same included names in every directory and
   * the same lstat numbers for every entry. Lists (only where a listing may have changed) and stats
   * as the walk does, with the same ignore decisions, stopping at the first difference. `seen`
   * counts the directories listed.
   */
  async matches(dir: string, matcher: Matcher, seen?: { listed: number }): Promise<boolean> {
    const root = dir.endsWith(sep) ? dir : dir + sep;
    const none: ParentMatches = new Array<boolean>(matcher.size).fill(false);
    // [directory, matcher state for its entries, whether to list it]; the root has no recorded times.
    const pending: [string, ParentMatches, boolean][] = [['', none, true]];
    let d = 0;
    let n = 0;
    let sinceYield = 0;
    while (pending.length > 0) {
      const [rel, parentMatches, list] = pending.pop()!;
      const prefix = rel === '' ? root : root + rel + sep;
      if (d >= this.dirs.length) return false;
      const recorded = this.dirs[d++]!;
      let names: string[];
      // Only an ignore file makes a directory's children need their own matcher state.
      let matches: Map<string, ParentMatches> | undefined;
      if (list) {
        const listing = this.list(dir, rel, matcher, parentMatches);
        if (listing === undefined || listing.names.join('/') !== recorded) return false;
        ({ names, matches } = listing);
        if (seen) seen.listed++;
      } else {
        names = recorded === '' ? [] : recorded.split('/');
      }
      const subdirs: [string, ParentMatches, boolean][] = [];
      for (const name of names) {
        const st = lstatSync(prefix + name, LSTAT);
        const i = n++ * FIELDS;
        if (
          st === undefined ||
          i >= this.stats.length ||
          st.ino !== this.stats[i + 1] ||
          st.mtimeMs !== this.stats[i + 3] ||
          st.ctimeMs !== this.stats[i + 4] ||
          st.size !== this.stats[i + 2] ||
          st.mode !== (this.stats[i + 5]! & ~MUST_LIST) ||
          st.dev !== this.stats[i]
        ) {
          return false;
        }
        if (st.isDirectory()) {
          const path = joinPath(rel, name);
          const each =
            matches?.get(name) ?? (matcher.size > 0 ? matcher.matchEach(path, parentMatches) : parentMatches);
          subdirs.push([path, each, (this.stats[i + 5]! & MUST_LIST) !== 0]);
        }
      }
      for (let i = subdirs.length - 1; i >= 0; i--) pending.push(subdirs[i]!);
      sinceYield += names.length;
      if (sinceYield > 2000) {
        sinceYield = 0;
        await new Promise((r) => setImmediate(r));
      }
    }
    return d === this.dirs.length && n * FIELDS === this.stats.length;
  }

  /** A directory's included names, sorted as the walk sorts them, with their matcher states; undefined if unreadable. */
  private list(
    dir: string,
    rel: string,
    matcher: Matcher,
    parentMatches: ParentMatches,
  ): { names: string[]; matches: Map<string, ParentMatches> | undefined } | undefined {
    let dirents;
    try {
      dirents = readdirSync(rel === '' ? dir : join(dir, rel), { withFileTypes: true });
    } catch {
      return undefined;
    }
    const names: string[] = [];
    const matches = matcher.size > 0 ? new Map<string, ParentMatches>() : undefined;
    let ascii = true;
    for (const ent of dirents) {
      const each = included(matcher, ent, joinPath(rel, ent.name), parentMatches);
      if (each === undefined) continue;
      names.push(ent.name);
      matches?.set(ent.name, each);
      if (ascii && !ASCII.test(ent.name)) ascii = false;
    }
    if (ascii) names.sort();
    else names.sort(compareNames);
    return { names, matches };
  }

  /** Writes the record atomically (temp file + rename). */
  async save(file: string): Promise<void> {
    const text = Buffer.from(this.dirs.join('\0'));
    const memo = Buffer.from(JSON.stringify(Object.fromEntries(this.digests)));
    const header = `${MAGIC} ${VERSION} ${endianness()} ${this.stats.length / FIELDS} ${text.length} ${memo.length} ${this.key}`;
    // Padded so the numbers start 8-byte aligned in the file.
    const line = header.padEnd(Math.ceil((header.length + 1) / 8) * 8 - 1) + '\n';
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, Buffer.concat([Buffer.from(line), new Uint8Array(this.stats.buffer), text, memo]));
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** Removes the record in `file`, if any. */
  static async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }
}

const LSTAT = { throwIfNoEntry: false } as const;
