import { chmodSync, lchownSync, linkSync, lstatSync, mkdirSync, symlinkSync, unlinkSync, type Stats } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ContextChangedError, type SelectedEntry, type Selection } from '../context/index.js';
import { secureJoin } from '../exec/paths.js';
import { contentXattrs, isHashedFile, readXattrs, writeXattrs, type HostFileStat } from '../oci/index.js';
import { extractArchive, isArchive } from './archive.js';
import type { Owner } from './chown.js';
import { ensureDir } from './dirs.js';
import { CopyError, ioError } from './errors.js';
import { Pool } from './pool.js';

export interface CopyOptions {
  /** Root of the image filesystem being written: a writable merged overlay mount (or, in tests, a plain dir). Nothing may be written outside it. */
  rootfs: string;
  /** Host directory the selection's `src` paths are relative to: the build context dir, or another stage's mounted rootfs. */
  sourceRoot: string;
  selection: Selection;
  /** Destination in the image, args already expanded, already made absolute against WORKDIR by the caller, trailing slash preserved as written. */
  dest: string;
  /** Resolved --chown; default 0:0 for everything copied (Docker never keeps host owners). */
  owner?: Owner;
  /**
   * The sources are another stage's (or an image's) filesystem, not the build context. BuildKit
   * then keeps each source's uid/gid when there is no `owner`, and its extended attributes (file
   * capabilities), both checked; context files arrive 0:0 and without xattrs. Costs one
   * `getfattr` per 500 sources.
   */
  fromStage?: boolean;
  /** Parsed --chmod (octal number); applies to files and dirs copied, as BuildKit does. */
  chmod?: number;
  /**
   * For a copy from the build context: the stats a source file (by its `src`) had when its content
   * was hashed for the step's key. A file whose inode or times differ, before or after it is
   * copied, changed while the build read it: the copy fails rather than put other content in a
   * layer cached under that key.
   */
  hashed?: (src: string) => HostFileStat | undefined;
}

const ROOT: Owner = { uid: 0, gid: 0 };
/** Concurrent file copies: enough to keep libuv's four threads busy without piling up descriptors. */
const COPY_CONCURRENCY = 16;
const YIELD_EVERY = 1000;

/**
 * Applies a selection onto the image at `rootfs` (the shared core of COPY and ADD), step for step
 * as BuildKit's copy (fsutil/copy as docker 20.10 runs it) does, each rule checked against it:
 * - the destination's missing parents are created 0755, owned by --chown's owner (else 0:0);
 *   symlinks in the destination path are followed inside the rootfs, the last one too;
 * - the destination directory (the selection's dest '' entry) is created 0755 with that owner
 *   whatever the source's mode and --chmod; an existing one is left untouched;
 * - a single file to a destination not ending in `/` becomes the destination, or goes inside it
 *   when it already is a directory; an existing file there is replaced;
 * - below the destination nothing is followed: an existing directory is merged into *and takes
 *   the copied directory's mode and owner*; an existing file or symlink is replaced; a directory
 *   onto a file or symlink is `not-a-directory`, a file onto a directory `is-a-directory`;
 * - modes are kept (setuid, setgid, sticky too); --chmod replaces the 0777 bits only, of files and
 *   directories; symlinks are copied as symlinks; files hardlinked to each other stay hardlinked;
 * - owners: --chown's, else 0:0 (context) or the source's (fromStage, which also copies xattrs).
 * With `unpack` (ADD), a file named by a source (not one found below a copied directory) that is a
 * tar archive, plain or compressed, is extracted into the destination directory instead.
 */
export async function copySelection(o: CopyOptions, unpack = false): Promise<void> {
  if (o.selection.length === 0) return; // BuildKit creates nothing for an empty wildcard
  const owner = o.owner ?? ROOT;
  const destPath = posix.normalize('/' + o.dest).replace(/(.)\/+$/, '$1');
  const w = new Writer(o, destPath);
  let destAbs: string | undefined;
  const destDir = (): string => (destAbs ??= ensureDir(o.rootfs, destPath, owner, destPath));
  let n = 0;
  for (const e of o.selection) {
    if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    const src = e.src === '' ? o.sourceRoot : join(o.sourceRoot, e.src);
    const named = e.dest === '' || (e.dest === e.name && !e.dest.includes('/'));
    if (unpack && named && e.type === 'file' && (await isArchive(src))) {
      await w.settle();
      await extractArchive(src, destDir(), destPath);
      w.forget();
      continue;
    }
    if (e.dest !== '') {
      await w.put(e, src, destDir() + '/' + e.dest, posix.join(destPath, e.dest));
    } else if (e.type === 'dir') {
      destDir();
    } else {
      await w.put(e, src, ...(await singleTarget(o, destPath, owner, e)));
    }
  }
  await w.settle();
  await w.copyXattrs();
}

/** Where a single file copied to a destination not ending in `/` lands: [host path, image path]. */
async function singleTarget(
  o: CopyOptions,
  destPath: string,
  owner: Owner,
  e: SelectedEntry,
): Promise<[string, string]> {
  ensureDir(o.rootfs, posix.dirname(destPath), owner, destPath);
  const target = secureJoin(o.rootfs, destPath);
  const st = lstatSync(target, { throwIfNoEntry: false });
  if (st?.isDirectory()) return [target + '/' + e.name, posix.join(destPath, e.name)];
  // A dangling symlink at the destination: BuildKit writes its target, creating the parents.
  if (!st) ensureDir(o.rootfs, posix.dirname(target.slice(o.rootfs.length) || '/'), owner, destPath);
  return [target, destPath];
}

type Kind = 'none' | 'dir' | 'other';

/**
 * Which source of the COPY an entry came from, as far as the selection tells: entries below a
 * copied directory share its resolved path and name (their `src` is that path plus their `dest`);
 * a file named by a source stands alone.
 */
export function sourceOf(e: SelectedEntry, src: string): string {
  if (e.dest === '' || e.dest === e.name) return src;
  if (src.endsWith('/' + e.dest)) return `${src.slice(0, -e.dest.length)}\0${e.name}`;
  return src;
}

/** Writes entries below the destination, remembering what it made so most targets need no lstat. */
class Writer {
  readonly #pool = new Pool(COPY_CONCURRENCY);
  /** Directories this copy created: their children exist only if written here. */
  readonly #fresh = new Set<string>();
  readonly #written = new Map<string, Kind>();
  readonly #pending = new Map<string, Promise<void>>();
  /**
   * Hardlinks: (source, `dev:ino`) of a multiply linked file → the first target written for it,
   * and back. BuildKit links files within one source (one directory's copy), never across sources.
   */
  readonly #links = new Map<string, string>();
  readonly #linkKeys = new Map<string, string>();
  /** fromStage: target → source of everything copied, for its xattrs. */
  readonly #copied = new Map<string, string>();

  constructor(
    readonly o: CopyOptions,
    readonly destPath: string,
  ) {}

  async put(e: SelectedEntry, src: string, target: string, shown: string): Promise<void> {
    this.#pool.check();
    const kind = this.#existing(target);
    if (this.o.fromStage) this.#copied.set(target, src);
    if (e.type === 'dir') {
      if (kind === 'other') throw new CopyError('not-a-directory', `cannot copy to non-directory: ${shown}`, shown);
      try {
        if (kind === 'none') {
          mkdirSync(target);
          this.#fresh.add(target);
          this.#written.set(target, 'dir');
        }
        const own = this.#owner(src);
        lchownSync(target, own.uid, own.gid);
        chmodSync(target, this.#mode(e.mode));
      } catch (err) {
        throw ioError(err, 'cannot create directory', shown);
      }
      return;
    }
    if (kind === 'dir') throw new CopyError('is-a-directory', `cannot replace directory ${shown} with a file`, shown);
    try {
      if (kind === 'other') {
        await this.#pending.get(target);
        unlinkSync(target);
        const key = this.#linkKeys.get(target);
        if (key !== undefined && this.#links.get(key) === target) this.#links.delete(key);
      }
      this.#written.set(target, 'other');
      if (e.type === 'symlink') {
        symlinkSync(e.linkTarget ?? '', target);
        const own = this.#owner(src);
        lchownSync(target, own.uid, own.gid);
        return;
      }
      const st = lstatSync(src);
      this.#unchanged(e, st);
      if (st.nlink > 1) {
        const key = `${sourceOf(e, src)}\0${st.dev}:${st.ino}`;
        const first = this.#links.get(key);
        if (first !== undefined) {
          await this.#pending.get(first);
          linkSync(first, target);
          return;
        }
        this.#links.set(key, target);
        this.#linkKeys.set(target, key);
      }
      const own = this.o.owner ?? (this.o.fromStage ? { uid: st.uid, gid: st.gid } : ROOT);
      const mode = this.#mode(e.mode);
      const { done } = await this.#pool.add(async () => {
        try {
          await copyFile(src, target);
          this.#unchanged(e, lstatSync(src));
          // chown before chmod: chown clears setuid/setgid.
          lchownSync(target, own.uid, own.gid);
          chmodSync(target, mode);
        } catch (err) {
          throw err instanceof ContextChangedError ? err : ioError(err, 'cannot copy to', shown);
        }
      });
      this.#pending.set(target, done);
    } catch (err) {
      throw err instanceof ContextChangedError ? err : ioError(err, 'cannot write', shown);
    }
  }

  /** Throws unless a context file's stats are those it was hashed with (CopyOptions.hashed). */
  #unchanged(e: SelectedEntry, st: Stats): void {
    const expect = this.o.hashed?.(e.src);
    if (expect && !isHashedFile(st, expect)) {
      throw new ContextChangedError(this.o.sourceRoot, e.src, 'was modified');
    }
  }

  /** BuildKit copies xattrs after owner and mode (a chown would drop security.capability). */
  async copyXattrs(): Promise<void> {
    if (this.#copied.size === 0) return;
    const found = await readXattrs([...new Set(this.#copied.values())]);
    const items: { path: string; xattrs: Record<string, Buffer> }[] = [];
    for (const [target, src] of this.#copied) {
      const all = found.get(src);
      if (!all) continue;
      const xattrs = contentXattrs(all);
      if (Object.keys(xattrs).length > 0) items.push({ path: target, xattrs });
    }
    await writeXattrs(items);
  }

  async settle(): Promise<void> {
    await this.#pool.drain();
    this.#pending.clear();
  }

  /** After something else wrote below the destination (an extracted archive), trust nothing remembered. */
  forget(): void {
    this.#fresh.clear();
    this.#written.clear();
    this.#links.clear();
    this.#linkKeys.clear();
  }

  #existing(target: string): Kind {
    const known = this.#written.get(target);
    if (known !== undefined) return known;
    if (this.#fresh.has(target.slice(0, target.lastIndexOf('/')))) return 'none';
    const st = lstatSync(target, { throwIfNoEntry: false });
    return st === undefined ? 'none' : st.isDirectory() ? 'dir' : 'other';
  }

  #owner(src: string): Owner {
    if (this.o.owner) return this.o.owner;
    if (!this.o.fromStage) return ROOT;
    const st: Stats = lstatSync(src);
    return { uid: st.uid, gid: st.gid };
  }

  #mode(mode: number): number {
    return this.o.chmod === undefined ? mode : (mode & ~0o777) | (this.o.chmod & 0o777);
  }
}
