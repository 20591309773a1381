/**
 * The host's `ProjectFiles`: one build context, read-only, synchronously (stage functions are
 * synchronous). Every answer is remembered, so a preset evaluated several times (compile runs stage
 * functions once per symbolic-arg trial) reads each file once, and the paths asked about are known
 * afterwards (a watcher recompiles when a lockfile appears or changes).
 */
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ProjectFiles } from '../dsl/types.js';

export interface HostProjectFiles extends ProjectFiles {
  /** Absolute paths of the files asked about so far, and of the paths asked about that did not exist. */
  readonly touched: ReadonlySet<string>;
}

/** A read-only view of `dir` (absolute or relative to the process's working directory). */
export function projectFiles(dir: string): HostProjectFiles {
  const root = path.resolve(dir);
  const touched = new Set<string>();
  const memo = new Map<string, unknown>();
  let realRoot: string | undefined;

  /** `rel` as an absolute path inside the root, or a thrown error saying why it is not allowed. */
  const inside = (rel: string, what: string): string => {
    if (typeof rel !== 'string') throw new Error(`${what}: the path must be a string, got ${typeof rel}`);
    const slashed = rel.replaceAll('\\', '/');
    if (path.posix.isAbsolute(slashed) || /^[a-zA-Z]:\//.test(slashed)) {
      throw new Error(`${what}("${rel}"): project paths are relative to the context ${root}`);
    }
    const norm = path.posix.normalize(slashed === '' ? '.' : slashed);
    if (norm === '..' || norm.startsWith('../')) {
      throw new Error(`${what}("${rel}"): the path leaves the context ${root}`);
    }
    return path.join(root, norm);
  };

  /** The real path of `abs`, checked to be inside the real root; undefined when nothing is there. */
  const real = (abs: string, rel: string, what: string): string | undefined => {
    let resolved: string;
    try {
      resolved = realpathSync(abs);
    } catch {
      touched.add(abs); // absent now: its appearance changes the answer
      return undefined;
    }
    // Files only: a directory stands for everything in it, which a watcher must not take for an input.
    if (!statSync(resolved).isDirectory()) touched.add(abs);
    realRoot ??= realpathSync(root);
    if (resolved !== realRoot && !resolved.startsWith(realRoot + path.sep)) {
      throw new Error(`${what}("${rel}"): the path leads outside the context ${root} (to ${resolved})`);
    }
    return resolved;
  };

  const once = <T>(key: string, compute: () => T): T => {
    if (!memo.has(key)) memo.set(key, compute());
    return memo.get(key) as T;
  };

  const readText = (rel: string): string | undefined =>
    once(`text:${rel}`, () => {
      const file = real(inside(rel, 'readText'), rel, 'readText');
      if (file === undefined || !statSync(file).isFile()) return undefined;
      return readFileSync(file, 'utf8');
    });

  return {
    dir: root,
    touched,
    exists: (rel) => once(`exists:${rel}`, () => real(inside(rel, 'exists'), rel, 'exists') !== undefined),
    readText,
    readJson: (rel) =>
      once(`json:${rel}`, () => {
        const text = readText(rel);
        if (text === undefined) return undefined;
        try {
          return JSON.parse(text) as unknown;
        } catch (e) {
          throw new Error(`${rel} in ${root} is not valid JSON: ${(e as Error).message}`);
        }
      }),
    list: (rel = '.') =>
      once(`list:${rel}`, () => {
        const at = real(inside(rel, 'list'), rel, 'list');
        if (at === undefined || !statSync(at).isDirectory()) return [];
        return readdirSync(at, { withFileTypes: true })
          .map((d) => (isDir(at, d) ? `${d.name}/` : d.name))
          .sort();
      }),
  };
}

/** Directories, and symlinks to directories, end with `/` in listings. */
function isDir(at: string, entry: { name: string; isDirectory(): boolean; isSymbolicLink(): boolean }): boolean {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(path.join(at, entry.name)).isDirectory();
  } catch {
    return false;
  }
}
