import type { Readable } from 'node:stream';

/** What a layer entry is; maps 1:1 onto a tar typeflag. */
export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

/**
 * One path in a layer, independent of where it came from (a directory walk, an overlay upperdir, a
 * synthesized COPY). Only these fields reach the tar: nothing host-specific (uname, atime, ctime,
 * inode) can leak into a layer because there is no field to carry it.
 */
export interface LayerEntry {
  /** Relative posix path, no leading `/`, no trailing `/`, no `.` or `..` components. */
  path: string;
  type: EntryType;
  /** Permission bits plus setuid/setgid/sticky (07777); the file type bits are ignored. */
  mode: number;
  uid: number;
  gid: number;
  /** Byte length of a file's content; required for files, ignored otherwise. */
  size?: number;
  /** Symlink target (as stored), or the layer path a hardlink points at. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, name → raw value (written as PAX `SCHILY.xattr.<name>`). */
  xattrs?: Record<string, Buffer>;
  /** Modification time in seconds; clamped to the layer epoch, absent means the epoch. */
  mtime?: number;
  /** Opens a file's content; called once, while the entry is written. */
  content?: () => Readable;
}

/** Bytewise (UTF-8) order: the same on every machine and locale, and a parent sorts before its children. */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Throws unless `path` is a clean relative posix path, so no entry can escape the root it lands in. */
export function checkEntryPath(path: string): void {
  if (path === '' || path.startsWith('/') || path.endsWith('/') || path.includes('\0')) {
    throw new Error(`invalid layer path ${JSON.stringify(path)}: must be relative, without a trailing /`);
  }
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') {
      throw new Error(`invalid layer path ${JSON.stringify(path)}: empty, . or .. component`);
    }
  }
}

/** Collects entries, validates them, and returns them in canonical order; duplicate paths are an error. */
export async function sortEntries(entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>): Promise<LayerEntry[]> {
  const all: LayerEntry[] = [];
  for await (const entry of entries) {
    checkEntryPath(entry.path);
    if (entry.type === 'file' && (entry.size === undefined || (entry.size > 0 && !entry.content))) {
      throw new Error(`layer entry ${entry.path}: a file needs a size and, unless empty, content`);
    }
    if ((entry.type === 'symlink' || entry.type === 'hardlink') && entry.linkname === undefined) {
      throw new Error(`layer entry ${entry.path}: a ${entry.type} needs a linkname`);
    }
    all.push(entry);
  }
  all.sort((a, b) => comparePaths(a.path, b.path));
  for (let i = 1; i < all.length; i++) {
    if (all[i - 1]!.path === all[i]!.path) throw new Error(`duplicate layer path ${all[i]!.path}`);
  }
  return carryHardlinksFirst(all);
}

/**
 * Extractors (docker, umoci, tar) create a hardlink by linking to a path that must already exist, so in
 * each group of hardlinked paths the first in canonical order must carry the content and every other path
 * must link to it. Callers may name any member as the target; this rewrites the group deterministically.
 */
function carryHardlinksFirst(sorted: LayerEntry[]): LayerEntry[] {
  const byPath = new Map(sorted.map((e, i) => [e.path, i]));
  const root = (entry: LayerEntry): LayerEntry | undefined => {
    let current = entry;
    for (let hops = 0; current.type === 'hardlink'; hops++) {
      const next = byPath.get(current.linkname!);
      if (next === undefined || hops > sorted.length) return undefined; // target in a lower layer
      current = sorted[next]!;
    }
    return current;
  };
  const carrier = new Map<LayerEntry, string>();
  return sorted.map((entry) => {
    const target = root(entry);
    if (!target || target.type === 'dir') return entry;
    const first = carrier.get(target);
    if (first === undefined) {
      carrier.set(target, entry.path);
      // The earliest member carries the target's content and metadata under its own path.
      return entry === target ? entry : { ...target, path: entry.path };
    }
    return {
      ...target,
      path: entry.path,
      type: 'hardlink',
      linkname: first,
      size: 0,
      content: undefined,
      xattrs: undefined,
    };
  });
}
