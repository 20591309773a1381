/**
 * The build contexts builds read, each with its ignore rules, a persistent stat cache and a walk
 * record (context/walk-record.ts). A context that still matches its record is not walked at all:
 * the selections its steps make have the digests the record remembers, and the walk happens only
 * if a step that copies from it runs. One build uses a cache of its own; a watch session keeps one
 * across builds and tells it which paths changed, so a rebuild re-stats those paths and nothing else.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { checkRecord, prepareRecordChecks } from '../context/record-check.js';
import {
  ContextChangedError,
  contextRelative,
  digestSelection,
  ignorePatterns,
  Matcher,
  refreshPaths,
  StatCache,
  walkContext,
  WalkRecord,
  type ContextIndex,
  type Selection,
} from '../context/index.js';
import type { ImageGraph } from '../graph/types.js';

export interface DigestedSelection {
  digest: string;
  /** The selected entries (made on first call: a cached step never needs them). */
  selection(): Promise<Selection>;
}

export class BuildContext {
  /**
   * Selections by what selected them, kept until a path of the context changes: a watch rebuild
   * re-selects and re-hashes only the contexts an edit touched.
   */
  private readonly selections = new Map<string, Promise<DigestedSelection>>();
  /** Digests true of the context as it is now; those the record brought may be dropped at save. */
  private readonly digests = new Map<string, string>();
  private walked: Promise<ContextIndex> | undefined;
  private stats: Promise<StatCache> | undefined;
  /** Digests the record brought: true of the context when it was checked, not necessarily of a later walk. */
  private inherited = new Set<string>();
  /** Whether the record on disk no longer says what is known (a walk, a change, a new digest). */
  private recordStale = false;
  /** Bumped by every change, so a digest computed across one is not remembered. */
  private generation = 0;

  constructor(
    readonly dir: string,
    readonly matcher: Matcher,
    /** Whether ignore rules apply (a bind mount of the context then needs a filtered copy). */
    readonly filtered: boolean,
    private readonly files: { statCache: string; record: string; recordKey: string },
  ) {}

  /** Opens a context: trusted from its record when it still matches, else walked now. */
  static async open(
    dir: string,
    patterns: string[],
    files: { statCache: string; record: string; recordKey: string },
  ): Promise<BuildContext> {
    const ctx = new BuildContext(dir, new Matcher(patterns), patterns.length > 0, files);
    const digests = await checkRecord({ dir, patterns, file: files.record, key: files.recordKey });
    if (digests) {
      for (const [key, digest] of digests) {
        ctx.digests.set(key, digest);
        ctx.inherited.add(key);
      }
    } else {
      await ctx.index();
    }
    return ctx;
  }

  /** The walked context (walked on first call when its record was trusted). */
  index(): Promise<ContextIndex> {
    if (!this.walked) {
      this.walked = walkContext(this.dir, this.matcher);
      this.recordStale = true;
      // A failed walk is not kept: the next call tries again.
      this.walked.catch(() => {
        this.walked = undefined;
      });
    }
    return this.walked;
  }

  statCache(): Promise<StatCache> {
    this.stats ??= StatCache.load(this.files.statCache);
    return this.stats;
  }

  /** The selection `key` names (made by `select`) with its content digest, once per state of the context. */
  select(key: string, select: (index: ContextIndex) => Selection): Promise<DigestedSelection> {
    let p = this.selections.get(key);
    if (p) return p;
    const known = this.digests.get(key);
    if (known !== undefined) {
      let made: Promise<Selection> | undefined;
      p = Promise.resolve({ digest: known, selection: () => (made ??= this.reselect(select, known)) });
    } else {
      p = this.digestSelected(select).then(({ digest, selection, stable }) => {
        if (stable) {
          this.digests.set(key, digest);
          this.recordStale = true;
        }
        return { digest, selection: () => Promise.resolve(selection) };
      });
      // A failure (a missing source) is not kept: the file may appear before the next build.
      p.catch(() => this.selections.delete(key));
    }
    this.selections.set(key, p);
    return p;
  }

  /**
   * Selects from the walk and digests the selection; `stable` when no change was reported meanwhile.
   * A selected file that is gone when read (a file another process renames into place) means the
   * walk is out of date there: that path is re-listed, as a watcher's event would have it, and the
   * selection made again.
   */
  private async digestSelected(
    select: (index: ContextIndex) => Selection,
  ): Promise<{ digest: string; selection: Selection; stable: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const generation = this.generation;
      const index = await this.index();
      const selection = select(index);
      try {
        const { digest } = await digestSelection(this.dir, selection, await this.statCache(), index);
        return { digest, selection, stable: generation === this.generation };
      } catch (e) {
        if (!(e instanceof ContextChangedError) || e.path === undefined || attempt === CHANGED_ATTEMPTS) throw e;
        await this.changed([e.path]);
      }
    }
  }

  /**
   * The selection a digest from the walk record stands for, made from a walk now (its step runs).
   * It must still have that digest: the step's layer is cached under a key holding it, and other
   * files under that key would be served to every later build with the recorded context.
   */
  private async reselect(select: (index: ContextIndex) => Selection, recorded: string): Promise<Selection> {
    const { digest, selection } = await this.digestSelected(select);
    if (digest !== recorded) {
      throw new ContextChangedError(this.dir, undefined, 'its files differ from when the build checked them');
    }
    return selection;
  }

  /** Context-relative paths that changed: re-stats them in a walked context; forgets every digest. */
  async changed(rels: readonly string[]): Promise<void> {
    this.generation++;
    this.selections.clear();
    this.digests.clear();
    this.inherited.clear();
    this.recordStale = true;
    // Not walked: nothing to refresh, the first use walks the context as it is then.
    const walked = await this.walked?.catch(() => undefined);
    if (walked) refreshPaths(walked, this.matcher, rels);
  }

  /** Saves the stat cache, and (unless `records` is false) a record of the walked context with the digests true of it. */
  async save(records = true): Promise<void> {
    if (this.stats) await (await this.stats).save();
    if (!records || !this.recordStale || !this.walked) return;
    // Only digests made from the walk go into its record: the context may have changed between
    // the check that vouched for the inherited ones and the walk.
    const own = new Map([...this.digests].filter(([key]) => !this.inherited.has(key)));
    const record = WalkRecord.of(await this.walked, this.files.recordKey, own);
    if (record) await record.save(this.files.record);
    else await WalkRecord.remove(this.files.record);
    this.recordStale = false;
  }
}

/** Selections made again when files vanish under them, before the build gives up on a context that keeps changing. */
const CHANGED_ATTEMPTS = 3;

/** The ignore file every context has (the config's patterns come on top): a change to it means a new walk. */
const IGNORE_FILE = '.dockerignore';

export class ContextCache {
  private readonly contexts = new Map<string, Promise<BuildContext>>();

  /** `statCacheDir`: where each context's stat cache and walk record are kept. */
  constructor(private readonly statCacheDir: string) {
    // The record checks' worker starts now, while the build resolves its base images.
    prepareRecordChecks();
  }

  /** The context of an image (its directory relative to `projectDir`), opened on first use. */
  get(projectDir: string, image: ImageGraph): Promise<BuildContext> {
    const dir = join(projectDir, image.context);
    const key = `${dir}\0${image.ignore.join('\n')}`;
    let p = this.contexts.get(key);
    if (!p) {
      p = (async () => {
        const patterns = await ignorePatterns(dir, image);
        const recordKey = sha(`${RECORD_KEY_VERSION}\0${dir}\0${patterns.join('\n')}`);
        return BuildContext.open(dir, patterns, {
          statCache: join(this.statCacheDir, `${sha(dir)}.json`),
          record: join(this.statCacheDir, `${recordKey}.walk`),
          recordKey,
        });
      })();
      // A failed walk is not kept: the next build tries again.
      p.catch(() => this.contexts.delete(key));
      this.contexts.set(key, p);
    }
    return p;
  }

  /**
   * Absolute paths that changed (created, modified or deleted): every context holding one
   * re-stats just those paths; one whose ignore file changed is opened again on next use.
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
        await ctx.save();
        this.contexts.delete(key);
        continue;
      }
      await ctx.changed(rels);
    }
  }

  /** Contexts opened so far, with their ignore matchers: what a watcher watches. */
  async opened(): Promise<BuildContext[]> {
    const out: BuildContext[] = [];
    for (const p of this.contexts.values()) {
      const ctx = await p.catch(() => undefined);
      if (ctx) out.push(ctx);
    }
    return out;
  }

  /**
   * Saves what the builds learnt (so the next no-op build reads no file and walks no context).
   * A watch session leaves out the walk records until it ends (`records: false`): writing a
   * large context's record after every edit would cost each rebuild more than the record saves.
   */
  async save(options: { records?: boolean } = {}): Promise<void> {
    for (const ctx of await this.opened()) await ctx.save(options.records ?? true);
  }
}

/** Whether any step of the image reads its build context (COPY or ADD from it, a bind mount of it). */
export function readsContext(image: ImageGraph): boolean {
  return image.stages.some((stage) =>
    stage.nodes.some(
      (node) =>
        (node.op === 'add' && node.sources.some((source) => !/^https?:\/\//.test(source))) ||
        (node.op === 'copy' && node.from.kind === 'context') ||
        (node.op === 'run' &&
          node.mounts.some((m) => (m.type === 'bind' || m.type === 'cache') && m.from?.kind === 'context')),
    ),
  );
}

/** Part of every record's key: a change to how selections are digested must not trust old records. */
const RECORD_KEY_VERSION = 'drydock-context-v1';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
