/**
 * `drydock build --watch`: one warm process that rebuilds on save. It keeps the store, the
 * registry client and every walked context (with its stat cache) between builds; file events go
 * through the debouncer straight into the contexts (only the changed paths are re-stated), and
 * the content-hashed solver re-runs only the steps whose inputs changed. A change during a build
 * cancels it (its runc containers are killed; finished steps stay cached) and a new one starts
 * from what is still valid. Config edits reload and recompile the config; an error is reported
 * and the last good build stays in place. After each successful build the outputs are refreshed
 * by build() itself, and `run` restarts the image as a container, or `onBuild` runs a command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { build, openSession, type BuildOptions, type BuildResult, type BuildSession } from '../engine/build.js';
import { LOCK_FILE } from '../engine/lock.js';
import { parseOutput } from '../export/index.js';
import type { Graph } from '../graph/types.js';
import { startSpawnHelper } from '../host/spawn.js';
import type { SecretSpecs } from '../dsl/types.js';
import { startContainer, type RunningContainer } from './container.js';
import { Debouncer, type DebounceOptions } from './debounce.js';
import type { WatchEvent } from './events.js';
import { Inputs } from './inputs.js';
import { TreeWatcher } from './tree-watcher.js';

/** What a (re)load of the config gives: the CLI's loadProject. */
export interface LoadedProject {
  graph: Graph;
  dir: string;
  secrets: SecretSpecs;
  /** The config file and the local modules it imports. */
  dependencies: string[];
}

export interface WatchOptions {
  /** The config file: watched even while it fails to load. */
  configFile: string;
  /** Loads and compiles the project; throws a DiagnosticError (or any error) when it cannot. */
  load: () => Promise<LoadedProject>;
  /** Build options other than the project's own (images, target, outputs, load, push, tags, args…). */
  build?: Omit<BuildOptions, 'graph' | 'dir' | 'secrets' | 'session' | 'signal' | 'onEvent' | 'storeRoot'>;
  storeRoot?: string;
  env?: NodeJS.ProcessEnv;
  /** Start the built image as a container after each successful build (one image only). */
  run?: boolean;
  /** A shell command to run after each successful build instead (DRYDOCK_IMAGE, DRYDOCK_DIGEST set). */
  onBuild?: string;
  debounce?: DebounceOptions;
  /** Stops watching: the running build is cancelled, the container stopped. */
  signal: AbortSignal;
  onEvent: (event: WatchEvent) => void;
  /** How a load error is reported (the CLI renders diagnostics with their source lines). */
  describeError?: (error: unknown) => string;
}

/**
 * Quiet time after a rebuild before the snapshots it wrote are flushed. Short, so that the flush
 * happens between saves rather than under the next rebuild: left to the kernel's writeback, dirty
 * data piles up over a session of edits and its flushes slowed each rebuild's file writes severalfold.
 */
const SETTLE_IDLE_MS = 250;

/** Resolves once `signal` aborts and everything it started has stopped. */
export async function watchBuild(o: WatchOptions): Promise<void> {
  // Before the first build grows this process: every rebuild's mount, runc, umount and getfattr
  // are then forked from the helper, not from a process of a few hundred MB (host/spawn.ts).
  startSpawnHelper();
  return new Watch(o).start();
}

class Watch {
  private session!: BuildSession;
  private project: LoadedProject | undefined;
  private inputs = new Inputs([], []);
  private readonly watcher: TreeWatcher;
  private watched = '';
  private readonly debouncer: Debouncer;
  /** The build in progress, if any, and how to cancel it. */
  private current: { done: Promise<void>; abort: AbortController } | undefined;
  /** Cycles run one at a time. */
  private queue: Promise<void> = Promise.resolve();
  private container: RunningContainer | undefined;
  private hook: ChildProcess | undefined;
  /** Context sources read by the last builds, by context directory (kept when a build fails early). */
  private readonly sources = new Map<string, Set<string>>();
  private cycle = 0;
  /** Flushes the snapshots the rebuilds left unflushed once the session is idle (store/unsynced.ts). */
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: WatchOptions) {
    this.debouncer = new Debouncer((paths, firstAt) => this.schedule(paths, firstAt), o.debounce);
    this.watcher = new TreeWatcher(
      (abs) => this.onFile(abs),
      (abs, isDir) => this.inputs.ignored(abs, isDir),
      (error) => this.o.onEvent({ event: 'error', error: errorText(error) }),
    );
  }

  async start(): Promise<void> {
    this.session = await openSession({
      ...(this.o.storeRoot !== undefined ? { storeRoot: this.o.storeRoot } : {}),
      ...(this.o.env ? { env: this.o.env } : {}),
    });
    const stopped = new Promise<void>((resolve) => {
      if (this.o.signal.aborted) resolve();
      this.o.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.schedule(new Set([this.o.configFile]), performance.now(), true);
    await stopped;
    clearTimeout(this.settleTimer);
    this.debouncer.close();
    this.current?.abort.abort(new Error('watch stopped'));
    await this.queue;
    this.watcher.close();
    // The walk records the rebuilds left out: the next one-shot build starts from them.
    await this.session.contexts.save().catch((error: unknown) => {
      this.o.onEvent({ event: 'error', error: errorText(error) });
    });
    await this.stopContainer();
    this.stopHook();
    await this.session.store.settleSnapshots().catch(() => 0);
  }

  /** Called for every path the watcher reports. */
  private onFile(abs: string): void {
    const kind = this.inputs.relevant(abs);
    if (!kind) return;
    clearTimeout(this.settleTimer);
    this.debouncer.push(abs);
    // The build in progress read something that just changed: its result would be stale.
    this.current?.abort.abort(new Error('superseded by a newer change'));
  }

  private schedule(paths: Set<string>, firstAt: number, initial = false): void {
    this.queue = this.queue
      .then(() => this.runCycle(paths, firstAt, initial))
      .catch((error: unknown) => {
        this.o.onEvent({ event: 'error', error: errorText(error) });
      })
      .then(() => this.settleWhenIdle());
  }

  private settleWhenIdle(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      void this.session.store.settleSnapshots().catch(() => 0);
    }, SETTLE_IDLE_MS);
    this.settleTimer.unref();
  }

  private async runCycle(paths: Set<string>, firstAt: number, initial: boolean): Promise<void> {
    if (this.o.signal.aborted) return;
    const cycle = ++this.cycle;
    const startedAt = performance.now();
    if (!initial) this.o.onEvent({ event: 'change', cycle, paths: [...paths] });
    const configChanged = initial || [...paths].some((p) => this.inputs.relevant(p) === 'config');
    if (configChanged) {
      try {
        this.project = await this.o.load();
        if (!initial) this.o.onEvent({ event: 'config-reloaded', cycle });
      } catch (error) {
        this.o.onEvent({ event: 'config-error', cycle, error: this.o.describeError?.(error) ?? errorText(error) });
        await this.updateWatcher();
        return;
      }
    }
    const project = this.project;
    if (!project) return;
    await this.session.contexts.changed(paths);
    const abort = new AbortController();
    const stop = (): void => abort.abort(new Error('watch stopped'));
    this.o.signal.addEventListener('abort', stop, { once: true });
    let result: BuildResult | undefined;
    let failure: unknown;
    const images = this.o.build?.images?.length ? this.o.build.images : project.graph.images.map((i) => i.name);
    this.o.onEvent({ event: 'build-started', cycle, images: [...images] });
    const done = (async () => {
      try {
        result = await build({
          ...this.o.build,
          // Re-resolving base images and executing every step are asked of the first build only:
          // the rebuilds after it are what the cache is for.
          ...(cycle > 1 ? { updateLock: false, noCache: false } : {}),
          graph: project.graph,
          dir: project.dir,
          secrets: project.secrets,
          session: this.session,
          signal: abort.signal,
          ...(this.o.env ? { env: this.o.env } : {}),
          onEvent: (event) => this.o.onEvent({ event: 'step', cycle, step: event }),
        });
      } catch (error) {
        failure = error;
      }
    })();
    this.current = { done, abort };
    await done;
    this.current = undefined;
    this.o.signal.removeEventListener('abort', stop);
    if (result) this.remember(result);
    await this.updateWatcher();
    if (abort.signal.aborted) {
      this.o.onEvent({ event: 'build-cancelled', cycle, reason: errorText(abort.signal.reason) });
      return;
    }
    if (!result) {
      this.o.onEvent({ event: 'build-failed', cycle, error: this.o.describeError?.(failure) ?? errorText(failure) });
      return;
    }
    const finishedAt = performance.now();
    for (const f of result.failures) this.o.onEvent({ event: 'build-failed', cycle, image: f.image, error: f.message });
    if (result.failures.length > 0) return;
    let restartMs = 0;
    if (this.o.run || this.o.onBuild) {
      const restarting = performance.now();
      await this.afterBuild(result);
      restartMs = performance.now() - restarting;
    }
    for (const image of result.images) {
      this.o.onEvent({
        event: 'build-finished',
        cycle,
        image: image.name,
        digest: image.manifestDigest,
        durationMs: Math.round(finishedAt + restartMs - firstAt),
        rebuilt: image.executed,
        timings: {
          waitMs: Math.round(startedAt - firstAt),
          hashMs: result.timings.hashMs,
          solveMs: result.timings.solveMs,
          layerMs: result.timings.layerMs,
          exportMs: result.timings.exportMs,
          restartMs: Math.round(restartMs),
        },
      });
    }
  }

  private remember(result: BuildResult): void {
    for (const { dir, sources } of result.inputs) {
      let set = this.sources.get(dir);
      if (!set) this.sources.set(dir, (set = new Set()));
      for (const s of sources) set.add(s);
    }
  }

  /** Watches what the last build read, plus the config's modules; unwatches what it no longer reads. */
  private async updateWatcher(): Promise<void> {
    const contexts = await this.session.contexts.opened();
    const configFiles = new Set([this.o.configFile, ...(this.project?.dependencies ?? [])]);
    this.inputs = new Inputs(
      configFiles,
      contexts
        .filter((c) => this.sources.has(c.dir))
        .map((c) => ({ dir: c.dir, matcher: c.matcher, sources: [...this.sources.get(c.dir)!] })),
      this.outputPaths(),
    );
    const roots = this.inputs.roots();
    // What is watched depends on the sources too: a directory off every source's path is not.
    const key = JSON.stringify([roots, [...this.sources].map(([dir, set]) => [dir, [...set].sort()])]);
    if (key === this.watched) return;
    this.watcher.set(roots);
    this.watched = key;
    this.o.onEvent({ event: 'watching', paths: roots });
  }

  /**
   * What the builds write: every --output destination and images.lock.json. One inside a context
   * must not trigger a build (an output would trigger the next build forever).
   */
  private outputPaths(): string[] {
    const names = this.project?.graph.images.map((i) => i.name) ?? [];
    const cwd = this.o.build?.cwd ?? process.cwd();
    const outputs = (this.o.build?.outputs ?? []).flatMap((spec) => {
      const out = parseOutput(spec);
      if (!('dest' in out)) return [];
      return [...new Set(names.map((name) => resolve(cwd, out.dest.replaceAll('{image}', name))))];
    });
    return this.project ? [...outputs, join(this.project.dir, LOCK_FILE)] : outputs;
  }

  private async afterBuild(result: BuildResult): Promise<void> {
    const image = result.images[0];
    if (!image) return;
    if (this.o.run) {
      await this.stopContainer();
      const container = await startContainer({
        store: this.session.store,
        manifestDigest: image.manifestDigest,
        onOutput: (stream, text) => this.o.onEvent({ event: 'container-output', image: image.name, stream, text }),
      });
      this.container = container;
      this.o.onEvent({ event: 'container-started', image: image.name, digest: image.manifestDigest });
      void container.exited.then(
        (code) => {
          if (code !== null) this.o.onEvent({ event: 'container-exited', image: image.name, exitCode: code });
        },
        (error: unknown) => this.o.onEvent({ event: 'error', error: errorText(error) }),
      );
    } else if (this.o.onBuild) {
      this.stopHook();
      const hook = spawn('sh', ['-c', this.o.onBuild], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...(this.o.env ?? process.env), DRYDOCK_IMAGE: image.name, DRYDOCK_DIGEST: image.manifestDigest },
      });
      this.hook = hook;
      hook.stdout.on('data', (d: Buffer) =>
        this.o.onEvent({ event: 'hook-output', stream: 'stdout', text: d.toString('utf8') }),
      );
      hook.stderr.on('data', (d: Buffer) =>
        this.o.onEvent({ event: 'hook-output', stream: 'stderr', text: d.toString('utf8') }),
      );
      hook.on('close', (code) => {
        if (this.hook === hook) this.hook = undefined;
        this.o.onEvent({ event: 'hook-exited', exitCode: code ?? 1 });
      });
    }
  }

  private async stopContainer(): Promise<void> {
    const container = this.container;
    this.container = undefined;
    if (container) await container.stop();
  }

  private stopHook(): void {
    this.hook?.kill('SIGTERM');
    this.hook = undefined;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
