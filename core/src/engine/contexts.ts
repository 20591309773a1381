/**
 * The build contexts builds read: each walked once (honouring its ignore file) with a persistent
 * stat cache, and kept. One build uses a cache of its own; a watch session keeps one across
 * builds and tells it which paths changed, so a rebuild re-stats those paths and nothing else.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  contextRelative,
  ignorePatterns,
  Matcher,
  refreshPaths,
  StatCache,
  digestSelection,
  walkContext,
  type ContextIndex,
  type Selection,
} from '../context/index.js';
import type { ImageGraph } from '../graph/types.js';

export interface BuildContext {
  dir: string;
  index: ContextIndex;
  matcher: Matcher;
  /** Whether ignore rules apply (a bind mount of the context then needs a filtered copy). */
  filtered: boolean;
  statCache: StatCache;
  /**
   * Selections made in this context and their digests, by what selected them, kept until a path
   * of the context changes: a watch rebuild then re-selects and re-hashes only the contexts an
   * edit touched (on a 20,000-file context that is most of a rebuild's hashing time).
   */
  selections: Map<string, Promise<DigestedSelection>>;
}

export interface DigestedSelection {
  selection: Selection;
  digest: string;
}

/** The ignore file every context has (the config's patterns come on top): a change to it means a new walk. */
const IGNORE_FILE = '.dockerignore';

export class ContextCache {
  private readonly contexts = new Map<string, Promise<BuildContext>>();

  /** `statCacheDir`: where each context's stat cache is kept (one file per context directory). */
  constructor(private readonly statCacheDir: string) {}

  /** The context of an image (its directory relative to `projectDir`), walked on first use. */
  get(projectDir: string, image: ImageGraph): Promise<BuildContext> {
    const dir = join(projectDir, image.context);
    const key = `${dir}\0${image.ignore.join('\n')}`;
    let p = this.contexts.get(key);
    if (!p) {
      p = (async () => {
        const patterns = await ignorePatterns(dir, image);
        const matcher = new Matcher(patterns);
        const index = await walkContext(dir, matcher);
        const file = join(this.statCacheDir, `${sha(dir)}.json`);
        return {
          dir,
          index,
          matcher,
          filtered: patterns.length > 0,
          statCache: await StatCache.load(file),
          selections: new Map(),
        };
      })();
      // A failed walk is not kept: the next build tries again.
      p.catch(() => this.contexts.delete(key));
      this.contexts.set(key, p);
    }
    return p;
  }

  /**
   * Absolute paths that changed (created, modified or deleted): every context holding one
   * re-stats just those paths; one whose ignore file changed is walked again on next use.
   */
  async changed(paths: Iterable<string>): Promise<void> {
    const all = [...paths];
    for (const [key, p] of this.contexts) {
      const ctx = await p.catch(() => undefined);
      if (!ctx) continue;
      const rels = all
        .map((abs) => contextRelative(ctx.dir, abs))
        .filter((rel): rel is string => rel !== undefined && rel !== '');
      if (rels.length === 0) continue;
      if (rels.includes(IGNORE_FILE)) {
        await ctx.statCache.save();
        this.contexts.delete(key);
        continue;
      }
      refreshPaths(ctx.index, ctx.matcher, rels);
      ctx.selections.clear();
    }
  }

  /** Context directories walked so far, with their ignore matchers: what a watcher watches. */
  async walked(): Promise<BuildContext[]> {
    const out: BuildContext[] = [];
    for (const p of this.contexts.values()) {
      const ctx = await p.catch(() => undefined);
      if (ctx) out.push(ctx);
    }
    return out;
  }

  /** Saves what the builds learnt about file contents (so the next no-op build reads none). */
  async save(): Promise<void> {
    for (const ctx of await this.walked()) await ctx.statCache.save();
  }
}

/**
 * The selection `key` names in `ctx` (made by `select`) with its content digest, computed once
 * per state of the context.
 */
export function digestedSelection(
  ctx: BuildContext,
  key: string,
  select: () => Selection,
): Promise<DigestedSelection> {
  let p = ctx.selections.get(key);
  if (!p) {
    p = (async () => {
      const selection = select();
      const { digest } = await digestSelection(ctx.dir, selection, ctx.statCache, ctx.index);
      return { selection, digest };
    })();
    // A failure (a missing source) is not kept: the file may appear before the next build.
    p.catch(() => ctx.selections.delete(key));
    ctx.selections.set(key, p);
  }
  return p;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
