/**
 * What a watch session reacts to: the config and the local modules it imports, and, in each build
 * context, the paths the last builds read (COPY/ADD sources and bind-mount sources, after the
 * ignore rules) and the context's .dockerignore. Anything else in a context (a README no step
 * copies, an ignored node_modules) triggers nothing, and is not even watched.
 */
import { posix, sep } from 'node:path';
import { contextRelative, hasWildcards, isExcluded, type Matcher } from '../context/index.js';

export interface ContextInputs {
  dir: string;
  matcher: Matcher;
  /** Sources as steps named them, context-relative ('.' for all of it). */
  sources: readonly string[];
}

export type Relevance = 'config' | 'context' | undefined;

export class Inputs {
  private readonly configFiles: Set<string>;
  private readonly contexts: { dir: string; matcher: Matcher; prefixes: string[] }[];

  constructor(
    configFiles: Iterable<string>,
    contexts: readonly ContextInputs[],
    /** Where the builds themselves write (--output destinations): never an input, or each build would trigger the next. */
    private readonly written: readonly string[] = [],
  ) {
    this.configFiles = new Set(configFiles);
    this.contexts = contexts.map((c) => ({ dir: c.dir, matcher: c.matcher, prefixes: unique(c.sources.map(prefix)) }));
  }

  private isWritten(abs: string): boolean {
    return this.written.some((w) => abs === w || abs.startsWith(w + sep));
  }

  /** What to watch: the config files and the context directories (filtered by `ignored`). */
  roots(): string[] {
    return [...this.configFiles, ...new Set(this.contexts.map((c) => c.dir))];
  }

  /** Whether a change at `abs` may change what a build reads. */
  relevant(abs: string): Relevance {
    if (this.configFiles.has(abs)) return 'config';
    if (this.isWritten(abs)) return undefined;
    for (const c of this.contexts) {
      const rel = contextRelative(c.dir, abs);
      if (rel === undefined) continue;
      if (rel === '.dockerignore') return 'context';
      if (rel !== '' && isExcluded(c.matcher, rel, false)) continue;
      if (c.prefixes.some((p) => p === '' || rel === p || rel.startsWith(`${p}/`))) return 'context';
    }
    return undefined;
  }

  /** What the watcher skips: a path that is neither an input, nor a directory on the way to one. */
  ignored(abs: string, isDir: boolean | undefined): boolean {
    if (this.configFiles.has(abs)) return false;
    if (this.isWritten(abs)) return true;
    for (const c of this.contexts) {
      const rel = contextRelative(c.dir, abs);
      if (rel === undefined) continue;
      if (rel === '' || rel === '.dockerignore') return false;
      if (isExcluded(c.matcher, rel, isDir ?? true)) continue;
      const onTheWay = (p: string): boolean =>
        p === '' || rel === p || rel.startsWith(`${p}/`) || (isDir !== false && p.startsWith(`${rel}/`));
      if (c.prefixes.some(onTheWay)) return false;
    }
    return true;
  }
}

/** The literal directory part of a source: `src/**\/*.ts` → `src`, `./a/b` → `a/b`, `*.json` → ''. */
function prefix(source: string): string {
  const parts = posix
    .normalize(source)
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  const wild = parts.findIndex((p) => hasWildcards(p));
  return (wild < 0 ? parts : parts.slice(0, wild)).join('/');
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];
