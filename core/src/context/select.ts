/**
 * Which context entries a COPY/ADD (or a bind mount of the context) selects, with the semantics of
 * BuildKit's copy as docker 20.10 runs it (each behaviour below was checked against it; see
 * test/context/buildkit.test.ts):
 * - sources are relative to the context root; a leading `/` is stripped; `a/../b` is cleaned;
 * - a source with `*`, `?` or `[` is a Go filepath.Match pattern per segment; matches come in
 *   walk order; a pattern matching nothing selects nothing (BuildKit allows empty wildcards);
 * - every source path, and every wildcard match, is followed if it is a symlink (in the context);
 *   symlinks below a copied directory stay symlinks;
 * - a directory source copies its contents; a file goes inside a destination ending in `/` (or
 *   `.`), else becomes the destination itself;
 * - files excluded by .dockerignore are not in the context: naming one fails as a missing file.
 * Where drydock is stricter than BuildKit, it says so with a typed error instead of guessing:
 * sources climbing out of the context with `..` (BuildKit clamps them to the root), symlinks
 * followed out of the context or to an absolute target (BuildKit resolves them inside the
 * context), and several sources to a destination not ending in `/` (the documented rule, which
 * BuildKit 20.10 does not enforce: it copies the sources one over the other).
 */
import { Matcher } from './dockerignore.js';
import { ContextError } from './errors.js';
import { globMatch, hasWildcards } from './glob.js';
import { basename, cleanPath, dirname, joinPath } from './path.js';
import type { ContextEntry, ContextIndex, EntryType } from './walk.js';

export interface CopySpec {
  /** Sources as written in the COPY/ADD (args already expanded). */
  sources: readonly string[];
  /** Destination as written; only whether it names a directory matters here. */
  dest: string;
  /** `--exclude` patterns (dockerignore syntax), relative to each source. */
  exclude?: readonly string[];
}

export interface SelectedEntry {
  /** Context-relative path of the entry read (a followed symlink's target). */
  src: string;
  /**
   * Path relative to the COPY destination. '' is the destination itself: either the directory
   * the COPY creates (type 'dir', mode 0755, first entry; an existing one is left as it is), or a
   * single file copied to a destination not ending in `/`, which becomes the destination, or goes
   * inside it as `name` when the destination already is a directory in the image (which only the
   * engine knows).
   */
  dest: string;
  /** The name the source had where it was matched (differs from `src` for followed symlinks). */
  name: string;
  type: EntryType;
  mode: number;
  size: number;
  linkTarget?: string;
}

/** Ordered as copying proceeds; an entry overwrites (or merges into) an earlier one at the same dest. */
export type Selection = SelectedEntry[];

const MAX_LINKS = 255;

export function destIsDir(dest: string): boolean {
  return dest === '' || dest === '.' || dest.endsWith('/');
}

export function selectSources(index: ContextIndex, spec: CopySpec): Selection {
  const dirDest = destIsDir(spec.dest);
  const exclude = spec.exclude?.length ? new Matcher(spec.exclude.flatMap(normalizeExclude)) : undefined;
  const matched: { source: string; path: string; base: string }[] = [];
  for (const source of spec.sources) {
    const rel = normalizeSource(source);
    const segs = rel === '' ? [] : rel.split('/');
    const first = segs.findIndex(hasWildcards);
    if (first < 0) {
      matched.push({ source, path: rel, base: dirname(rel) });
      continue;
    }
    const base = resolveInScope(index, segs.slice(0, first).join('/'), source);
    const tail = segs.slice(first).join('/');
    if (base !== '' && index.entries.get(base)?.type !== 'dir') continue;
    for (const path of wildcardMatches(index, base, tail)) matched.push({ source, path, base });
  }
  if (!dirDest && (spec.sources.length > 1 || matched.length > 1)) {
    throw new ContextError(
      'multiple-sources-need-dir-dest',
      `COPY failed: when using COPY with more than one source file, the destination must be a directory and end with a /: ${JSON.stringify(spec.dest)}`,
      spec.dest,
    );
  }
  const out: Selection = [];
  let destCreated = false;
  const destDir = (src: string, name: string) => {
    // BuildKit creates the destination directory 0755 whatever the source directory's mode
    // (checked), and does so for an empty directory source too, but not for an empty wildcard.
    if (destCreated) return;
    destCreated = true;
    out.push({ src, dest: '', name, type: 'dir', mode: 0o755, size: 0 });
  };
  for (const m of matched) {
    const target = resolveInScope(index, m.path, m.source);
    const name = m.path === '' ? '.' : basename(m.path);
    const entry = target === '' ? undefined : index.entries.get(target)!;
    if (entry === undefined || entry.type === 'dir') {
      destDir(target, name);
      copyContents(index, target, exclude, out, name);
    } else {
      if (exclude?.matches(relativeTo(m.path, m.base))) continue;
      if (dirDest) destDir(target, name);
      out.push(selected(entry, dirDest ? name : '', name));
    }
  }
  return out;
}

/**
 * What a bind mount of the context (`RUN --mount=type=bind[,source=…]`) exposes: `source` is a
 * literal path (mounts take no wildcards), followed if it is a symlink; a directory's contents
 * appear at the mount target (dest '' is the target itself), a file is mounted as the target.
 */
export function selectBind(index: ContextIndex, source = '.'): Selection {
  const rel = normalizeSource(source);
  const target = resolveInScope(index, rel, source);
  const name = rel === '' ? '.' : basename(rel);
  const entry = target === '' ? undefined : index.entries.get(target)!;
  const out: Selection = [];
  if (entry === undefined || entry.type === 'dir') {
    out.push({ src: target, dest: '', name, type: 'dir', mode: entry?.mode ?? 0o755, size: 0 });
    copyContents(index, target, undefined, out, name);
  } else {
    out.push(selected(entry, '', name));
  }
  return out;
}

function normalizeSource(source: string): string {
  let rel = cleanPath(source);
  if (rel.startsWith('/')) rel = rel.replace(/^\/+/, '');
  if (rel === '..' || rel.startsWith('../')) {
    throw new ContextError(
      'source-outside-context',
      `COPY failed: forbidden path outside the build context: ${source}`,
      source,
    );
  }
  return rel === '.' ? '' : rel;
}

/** An `--exclude` value as one dockerignore line (trimmed, cleaned, made relative). */
function normalizeExclude(pattern: string): string[] {
  const p = pattern.trim();
  if (p === '') return [];
  const invert = p.startsWith('!');
  let body = invert ? p.slice(1).trim() : p;
  body = cleanPath(body).replace(/^\/(?=.)/, '');
  return [invert ? '!' + body : body];
}

/**
 * Resolves `path` the way BuildKit's RootPath does, following every symlink on the way including
 * the last (COPY follows its sources), but refusing to leave the context. Returns the real
 * context-relative path ('' for the root).
 */
function resolveInScope(index: ContextIndex, path: string, source: string): string {
  let segs = path === '' ? [] : path.split('/');
  let cur = '';
  let links = 0;
  while (segs.length) {
    const seg = segs.shift()!;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (cur === '') throw escape(source, path);
      cur = dirname(cur);
      continue;
    }
    const next = joinPath(cur, seg);
    const entry = index.entries.get(next);
    if (entry === undefined) throw notFound(source);
    if (entry.type === 'symlink') {
      if (++links > MAX_LINKS) throw notFound(source, 'too many levels of symbolic links');
      const target = entry.linkTarget!;
      if (target.startsWith('/')) throw escape(source, next, target);
      segs = [...target.split('/'), ...segs];
      continue;
    }
    if (entry.type !== 'dir' && segs.length > 0) throw notFound(source, 'not a directory');
    cur = next;
  }
  return cur;
}

/** Go's filepath.Walk from `base`, matching paths relative to it; matched directories are not entered. */
function wildcardMatches(index: ContextIndex, base: string, pattern: string): string[] {
  const out: string[] = [];
  const depth = pattern.split('/').length;
  const visit = (dir: string, level: number) => {
    for (const name of index.children.get(dir) ?? []) {
      const path = joinPath(dir, name);
      const rel = relativeTo(path, base);
      if (globMatch(pattern, rel)) {
        out.push(path);
        continue;
      }
      // `*` and `?` never cross '/', so deeper paths cannot match (a `[/]` class can, in Go).
      if (index.entries.get(path)!.type === 'dir' && (level < depth || pattern.includes('['))) visit(path, level + 1);
    }
  };
  visit(base, 1);
  return out;
}

function copyContents(
  index: ContextIndex,
  dir: string,
  exclude: Matcher | undefined,
  out: Selection,
  name: string,
): void {
  // Appends to `out` directly (no per-directory arrays spread into their parents' at every level).
  const visit = (cur: string): void => {
    for (const child of index.children.get(cur) ?? []) {
      const entry = index.entries.get(joinPath(cur, child))!;
      const rel = relativeTo(entry.path, dir);
      const excluded = exclude?.matches(rel) ?? false;
      if (entry.type === 'dir') {
        if (excluded && !exclude!.exceptionCouldMatchUnder(rel)) continue;
        const at = out.length;
        out.push(selected(entry, rel, name));
        visit(entry.path);
        // An excluded directory is still created when something below it is re-included.
        if (excluded && out.length === at + 1) out.length = at;
      } else if (!excluded) {
        out.push(selected(entry, rel, name));
      }
    }
  };
  visit(dir);
}

function selected(entry: ContextEntry, dest: string, name: string): SelectedEntry {
  const s: SelectedEntry = { src: entry.path, dest, name, type: entry.type, mode: entry.mode, size: entry.size };
  if (entry.linkTarget !== undefined) s.linkTarget = entry.linkTarget;
  return s;
}

function relativeTo(path: string, base: string): string {
  return base === '' ? path : path.slice(base.length + 1);
}

function notFound(source: string, why = 'file does not exist'): ContextError {
  return new ContextError(
    'source-not-found',
    `COPY failed: file not found in build context or excluded by .dockerignore: stat ${source}: ${why}`,
    source,
  );
}

function escape(source: string, at: string, target?: string): ContextError {
  const how =
    target === undefined ? 'climbs out of the build context' : `points to ${target}, outside the build context`;
  return new ContextError(
    'symlink-escape',
    `COPY failed: ${JSON.stringify(source)}: the symlink ${JSON.stringify(at)} ${how}`,
    source,
  );
}
