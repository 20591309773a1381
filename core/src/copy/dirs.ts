import { chmodSync, lchownSync, lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import type { Owner } from './chown.js';
import { CopyError, ioError } from './errors.js';

const MAX_LINKS = 255;

/**
 * `mkdir -p` of `path` inside `root`, the way BuildKit's copy does it (fs.RootPath, then MkdirAll):
 * symlinks on the way are followed scoped to `root` (absolute targets restart at `root`, `..`
 * never climbs above it), missing directories are created 0755 and owned by `owner`, existing
 * ones are left as they are. A file or symlink-to-file on the way is `not-a-directory`. With
 * `strictLinks`, a dangling symlink on the way is an error too (tar extraction, where docker
 * does not create through it); otherwise its target is created (COPY does).
 * `shown` names the path in errors. Returns the real host path of the directory.
 */
export function ensureDir(root: string, path: string, owner: Owner, shown: string, strictLinks = false): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const abs = root + '/' + [...resolved, part].join('/');
    let st;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch (e) {
      throw ioError(e, 'cannot stat', shown);
    }
    if (st?.isSymbolicLink()) {
      if (++hops > MAX_LINKS) throw new CopyError('not-a-directory', `too many symlinks resolving ${shown}`, shown);
      const target = readlinkSync(abs);
      if (strictLinks && !lstatFollow(root, [...resolved], target)) {
        throw new CopyError('not-a-directory', `cannot create ${shown}: ${part} is a dangling symlink`, shown);
      }
      if (target.startsWith('/')) resolved.length = 0;
      parts.unshift(...target.split('/'));
      continue;
    }
    if (st === undefined) {
      try {
        mkdirSync(abs);
        lchownSync(abs, owner.uid, owner.gid);
        chmodSync(abs, 0o755);
      } catch (e) {
        throw ioError(e, 'cannot create directory', shown);
      }
    } else if (!st.isDirectory()) {
      throw new CopyError(
        'not-a-directory',
        `cannot create ${shown}: /${[...resolved, part].join('/')} is not a directory`,
        shown,
      );
    }
    resolved.push(part);
  }
  return resolved.length ? root + '/' + resolved.join('/') : root;
}

/** Whether a symlink target (relative to the link's directory `dir`) exists inside `root`. */
function lstatFollow(root: string, dir: string[], target: string): boolean {
  const base = target.startsWith('/') ? [] : dir;
  const joined = posix.normalize('/' + [...base, target].join('/'));
  // Followed once only: the caller walks further links component by component.
  return lstatSync(root + joined, { throwIfNoEntry: false }) !== undefined;
}
