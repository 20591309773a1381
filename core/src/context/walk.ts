/**
 * Walks a build context once, honouring the ignore matcher, and indexes what BuildKit would send:
 * every included entry with its lstat info. Excluded directories are not descended into unless an
 * exception is written below them; such a directory is itself sent, even when nothing below it
 * is re-included (checked: with `nothing` and `!nothing/none`, BuildKit creates an empty `nothing`).
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Matcher, ParentMatches } from './dockerignore.js';
import { compareNames, joinPath } from './path.js';

export type EntryType = 'file' | 'dir' | 'symlink';

export interface ContextEntry {
  /** Context-relative posix path. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid, setgid and sticky (st_mode & 0o7777). */
  mode: number;
  size: number;
  linkTarget?: string;
  dev: bigint;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export interface ContextIndex {
  /** Absolute context directory. */
  dir: string;
  entries: Map<string, ContextEntry>;
  /** Included child names of each directory ('' is the context root), in Go's byte order. */
  children: Map<string, string[]>;
}

export async function walkContext(contextDir: string, matcher: Matcher): Promise<ContextIndex> {
  const index: ContextIndex = { dir: contextDir, entries: new Map(), children: new Map() };
  const none = new Array<boolean>(matcher.size).fill(false);
  await walkDir(index, matcher, '', none);
  return index;
}

/** Walks `rel`, which is a directory. */
async function walkDir(
  index: ContextIndex,
  matcher: Matcher,
  rel: string,
  parentMatches: ParentMatches,
): Promise<void> {
  const abs = rel === '' ? index.dir : join(index.dir, rel);
  const dirents = await readdir(abs, { withFileTypes: true });
  const kept: string[] = [];
  await Promise.all(
    dirents.map(async (d) => {
      const path = joinPath(rel, d.name);
      const each = matcher.size ? matcher.matchEach(path, parentMatches) : parentMatches;
      const excluded = matcher.size > 0 && matcher.decide(each);
      const isDir = d.isDirectory();
      if (excluded && !(isDir && matcher.exceptionCouldMatchUnder(path))) return;
      // Sockets, fifos and devices have no place in an image layer built from a context.
      if (!isDir && !d.isFile() && !d.isSymbolicLink()) return;
      const st = await lstat(join(abs, d.name), { bigint: true });
      const entry: ContextEntry = {
        path,
        type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file',
        mode: Number(st.mode & 0o7777n),
        size: Number(st.size),
        dev: st.dev,
        ino: st.ino,
        mtimeNs: st.mtimeNs,
        ctimeNs: st.ctimeNs,
      };
      if (entry.type === 'symlink') entry.linkTarget = await readlink(join(abs, d.name));
      if (entry.type === 'dir') {
        await walkDir(index, matcher, path, each);
      }
      index.entries.set(path, entry);
      kept.push(d.name);
    }),
  );
  kept.sort(compareNames);
  index.children.set(rel, kept);
}

/** Entries below `dir` ('' for all), depth first in Go's walk order, `dir` itself excluded. */
export function* descendants(index: ContextIndex, dir: string): Generator<ContextEntry> {
  for (const name of index.children.get(dir) ?? []) {
    const path = joinPath(dir, name);
    const entry = index.entries.get(path)!;
    yield entry;
    if (entry.type === 'dir') yield* descendants(index, path);
  }
}
