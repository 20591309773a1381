import { readlinkSync } from 'node:fs';
import type { EntryType, LayerEntry } from './entry.js';
import { hostFileContent } from './tar-writer.js';
import { walk, type WalkedPath } from './walk.js';
import { readXattrs } from './xattr.js';

export interface FromDirectoryOptions {
  /** Read extended attributes (one getfattr call per few hundred paths); off by default. */
  xattrs?: boolean;
  /** Owner for every entry (e.g. COPY --chown); by default each file's own uid/gid. */
  owner?: { uid: number; gid: number };
  /** Drops xattrs by name before they reach an entry (overlay's own, for an upperdir). */
  xattrFilter?: (name: string) => boolean;
}

function typeOf(w: WalkedPath): EntryType | undefined {
  const s = w.stat;
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isCharacterDevice()) return 'char';
  if (s.isBlockDevice()) return 'block';
  if (s.isFIFO()) return 'fifo';
  return undefined; // a socket: tar cannot hold one, and docker's archiver skips them too
}

/** Linux dev_t: major is bits 8-19 and 32-43, minor bits 0-7 and 20-31 (glibc's encoding). */
export function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
export function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

/**
 * The entries of everything below `dir` (not `dir` itself), sorted. mtimes are not carried: they would
 * make the layer depend on when files were touched, and the epoch stands in for them. The second and later
 * paths of one inode (in sorted order) become hardlinks to the first.
 */
export async function entriesFromDirectory(dir: string, options: FromDirectoryOptions = {}): Promise<LayerEntry[]> {
  // comparePaths' order (bytewise UTF-8), with each path encoded once rather than once per comparison.
  const walked = (await walk(dir))
    .map((w) => ({ key: Buffer.from(w.path, 'utf8'), w }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ w }) => w);
  const xattrs = options.xattrs
    ? await readXattrs(walked.map((w) => w.abs))
    : new Map<string, Record<string, Buffer>>();
  const seen = new Map<string, string>();
  const entries: LayerEntry[] = [];
  for (const w of walked) {
    const type = typeOf(w);
    if (!type) continue;
    const entry: LayerEntry = {
      path: w.path,
      type,
      mode: w.stat.mode & 0o7777,
      uid: options.owner?.uid ?? w.stat.uid,
      gid: options.owner?.gid ?? w.stat.gid,
    };
    const attrs = Object.entries(xattrs.get(w.abs) ?? {}).filter(([name]) => options.xattrFilter?.(name) ?? true);
    if (attrs.length > 0) entry.xattrs = Object.fromEntries(attrs);
    const inode = `${w.stat.dev}:${w.stat.ino}`;
    const first = type !== 'dir' && w.stat.nlink > 1 ? seen.get(inode) : undefined;
    if (first !== undefined) {
      entry.type = 'hardlink';
      entry.linkname = first;
    } else {
      if (type !== 'dir' && w.stat.nlink > 1) seen.set(inode, w.path);
      if (type === 'file') {
        entry.size = w.stat.size;
        entry.content = hostFileContent(w.abs);
      } else if (type === 'symlink') {
        entry.linkname = readlinkSync(w.abs);
      } else if (type === 'char' || type === 'block') {
        entry.devmajor = major(w.stat.rdev);
        entry.devminor = minor(w.stat.rdev);
      }
    }
    entries.push(entry);
  }
  return entries;
}
