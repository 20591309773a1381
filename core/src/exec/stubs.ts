import { readdirSync, rmdirSync, unlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { lstatOf, secureJoin } from './paths.js';

// Both run on a step's critical path (before its container starts, after it exits): a few dozen
// lstat calls of microseconds each, made synchronously rather than one event-loop turn apiece.

/**
 * Mountpoints that did not exist in the image are created by runc, through the overlay, into the
 * upperdir. They are not the step's output, so they never land in a layer: before the step we note
 * which paths are missing; afterwards each one still empty (an empty dir or file) is removed from
 * the upperdir, deepest first. A stub the step filled with its own files stays.
 */
export function missingPaths(rootfs: string, destinations: readonly string[]): string[] {
  const missing = new Set<string>();
  for (const dest of destinations) {
    const host = secureJoin(rootfs, dest);
    const rel = posix.relative(rootfs, host);
    const parts = rel.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (missing.has(p)) continue;
      if (!lstatOf(posix.join(rootfs, p))) missing.add(p);
    }
  }
  return [...missing];
}

export function removeStubs(upperdir: string, lowerdirs: readonly string[], stubs: readonly string[]): void {
  // Not localeCompare: its first call loads ICU's collator, ~5 ms of the first RUN of a build.
  const deepestFirst = [...stubs].sort(
    (a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : a > b ? -1 : 0),
  );
  for (const rel of deepestFirst) {
    const path = posix.join(upperdir, rel);
    const stat = lstatOf(path);
    if (!stat) continue;
    if (stat.isDirectory() && readdirSync(path).length === 0) rmdirSync(path);
    else if (stat.isFile() && stat.size === 0) unlinkSync(path);
  }
  // Creating a stub copied its existing parent up into the upperdir; an ancestor left empty and
  // identical to the lower one (mode, owner) carries no change. It cannot be opaque: a copied-up
  // directory is not, and the step could not delete and recreate it while it held a mount point.
  const stubSet = new Set(stubs);
  const ancestors = new Set(
    stubs.flatMap((s) =>
      s
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
    ),
  );
  const deepest = [...ancestors]
    .filter((a) => !stubSet.has(a))
    .sort((a, b) => b.split('/').length - a.split('/').length);
  for (const rel of deepest) {
    const path = posix.join(upperdir, rel);
    const upper = lstatOf(path);
    if (!upper?.isDirectory() || readdirSync(path).length > 0) continue;
    const lower = firstLower(lowerdirs, rel);
    if (lower?.isDirectory() && lower.mode === upper.mode && lower.uid === upper.uid && lower.gid === upper.gid) {
      rmdirSync(path);
    }
  }
}

function firstLower(lowerdirs: readonly string[], rel: string): Stats | undefined {
  for (const dir of lowerdirs) {
    const stat = lstatOf(posix.join(dir, rel));
    if (stat) return stat;
  }
  return undefined;
}
