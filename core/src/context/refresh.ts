/**
 * Brings a walked context up to date with paths known to have changed (a file watcher's events),
 * re-listing only their directories: an edit costs a few lstats, not a walk of the whole context.
 * The result is what a fresh walk would give.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { Matcher, ParentMatches } from './dockerignore.js';
import { joinPath } from './path.js';
import { walkDir, type ContextIndex } from './walk.js';

/** `changed`: context-relative posix paths created, modified or deleted (files or directories). */
export function refreshPaths(index: ContextIndex, matcher: Matcher, changed: Iterable<string>): void {
  const dirs = new Set<string>();
  for (const rel of changed) {
    const slash = rel.lastIndexOf('/');
    dirs.add(slash < 0 ? '' : rel.slice(0, slash));
    // A changed directory's own listing is re-read too (its children may be what changed).
    if (index.children.has(rel)) dirs.add(rel);
  }
  // Parents first: re-listing a parent may drop a directory, or walk a new one whole.
  for (const dir of [...dirs].sort((a, b) => depth(a) - depth(b))) relist(index, matcher, nearestListed(index, dir));
}

const depth = (rel: string): number => (rel === '' ? 0 : rel.split('/').length);

/** The directory itself if it was listed, else its closest listed ancestor (the root always is). */
function nearestListed(index: ContextIndex, rel: string): string {
  let at = rel;
  while (at !== '' && !index.children.has(at)) {
    const slash = at.lastIndexOf('/');
    at = slash < 0 ? '' : at.slice(0, slash);
  }
  return at;
}

/**
 * Re-lists one directory; subdirectories that are new are walked whole, vanished ones forgotten,
 * and listed ones whose times changed (an entry came or went that no event has reported yet) are
 * re-listed too. So every listing is as new as its directory's recorded times, which is what lets
 * a walk record skip listing a directory whose times have not changed (walk-record.ts).
 */
function relist(index: ContextIndex, matcher: Matcher, rel: string): void {
  const before = index.children.get(rel);
  if (before === undefined) return; // dropped while a parent was re-listed
  const abs = rel === '' ? index.dir : join(index.dir, rel);
  const ownAt = Date.now();
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return; // its parent's re-listing drops it
  index.restatAtMs ??= new Map();
  // Its own entry (in its parent's listing) gets the times its changed listing gave it.
  const own = index.entries.get(rel);
  if (own) {
    Object.assign(own, { mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
    index.restatAtMs.set(rel, ownAt);
  }
  const listedDirs = new Map<string, { mtimeMs: number; ctimeMs: number; at: number | undefined }>();
  for (const name of before) {
    const path = joinPath(rel, name);
    const e = index.entries.get(path);
    if (e?.type === 'dir' && index.children.has(path)) {
      listedDirs.set(name, { mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, at: index.restatAtMs.get(path) });
    }
  }
  const wasDir = new Set(before.filter((name) => index.entries.get(joinPath(rel, name))?.type === 'dir'));
  for (const name of before) index.entries.delete(joinPath(rel, name));
  const statAt = Date.now();
  const subdirs = walkDir(index, matcher, rel, parentMatches(matcher, rel), undefined);
  const now = new Set(index.children.get(rel));
  for (const name of now) index.restatAtMs.set(joinPath(rel, name), statAt);
  for (const name of before) {
    const path = joinPath(rel, name);
    if (wasDir.has(name) && (!now.has(name) || index.entries.get(path)?.type !== 'dir')) forget(index, path);
  }
  const pending = subdirs.filter(([path]) => !index.children.has(path));
  while (pending.length > 0) {
    const [path, matches] = pending.pop()!;
    pending.push(...walkDir(index, matcher, path, matches, undefined));
  }
  for (const [name, old] of listedDirs) {
    const path = joinPath(rel, name);
    const e = index.entries.get(path);
    if (e?.type !== 'dir' || !index.children.has(path)) continue;
    if (e.mtimeMs !== old.mtimeMs || e.ctimeMs !== old.ctimeMs) relist(index, matcher, path);
    // Unchanged: its listing is as old as its earlier stat, and so is the time that vouches for it.
    else if (old.at === undefined) index.restatAtMs.delete(path);
    else index.restatAtMs.set(path, old.at);
  }
}

/** Drops a directory's listing and everything below it. */
function forget(index: ContextIndex, rel: string): void {
  for (const name of index.children.get(rel) ?? []) {
    const path = joinPath(rel, name);
    if (index.children.has(path)) forget(index, path);
    index.entries.delete(path);
  }
  index.children.delete(rel);
}

/** The matcher's state for the entries of directory `rel`, as the walk computed it on the way down. */
function parentMatches(matcher: Matcher, rel: string): ParentMatches {
  let matches: ParentMatches = new Array<boolean>(matcher.size).fill(false);
  if (rel === '' || matcher.size === 0) return matches;
  let path = '';
  for (const part of rel.split('/')) {
    path = joinPath(path, part);
    matches = matcher.matchEach(path, matches);
  }
  return matches;
}

/**
 * Whether the walk leaves `rel` out of the context: the ignore rules exclude it (a directory only
 * when no exception could bring back something below it).
 */
export function isExcluded(matcher: Matcher, rel: string, isDir: boolean): boolean {
  if (matcher.size === 0) return false;
  const slash = rel.lastIndexOf('/');
  const each = matcher.matchEach(rel, parentMatches(matcher, slash < 0 ? '' : rel.slice(0, slash)));
  return matcher.decide(each) && !(isDir && matcher.exceptionCouldMatchUnder(rel));
}
