/**
 * The solver: runs an image's stages node by node. Each node that touches files gets a cache key
 * (keys.ts) from what it does and the content it reads; a key with a record in the store reuses
 * the recorded layer, anything else executes. Stages run as soon as what they read is ready, so
 * independent stages and images overlap; executions share one queue (p-queue) bounding how many
 * run at once. A failing node rejects its stage and, through them, only the stages and images
 * that read it.
 */
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import { selectBind, selectSources } from '../context/index.js';
import { downloadUrl } from '../copy/index.js';
import { ExecError, unmountsDone } from '../exec/index.js';
import type { ImageGraph, MountSpec, Node, Source, StageGraph } from '../graph/types.js';
import { instructionLine, oneLine } from '../graph/render-instruction.js';
import type { HistoryEntry } from '../oci/index.js';
import type { RegistryClient } from '../registry/index.js';
import type { Store } from '../store/index.js';
import type { BuildEvent, StepEvent } from './events.js';
import { expandWord } from './expand.js';
import { createdByOf } from './history.js';
import { absoluteDest, copyNode, workdirNode, type CopyFrom } from './file-nodes.js';
import { applyNode, startStage, wordVars, type ConfigState } from './image-config.js';
import { pullImage } from './images.js';
import type { ContextCache } from './contexts.js';
import { SCRATCH_STATE, cacheKey, configState, imageState, layerState } from './keys.js';
import { layerSnapshot, scratchDir, type Layer, type LayerWrite } from './layers.js';
import { lockKey } from './lock.js';
import { runNode, type MountSource } from './run-node.js';
import type { Secrets } from './secrets.js';
import type { ImageState, Platform, StageState } from './state.js';

export interface SolverOptions {
  store: Store;
  client: RegistryClient;
  /** The config's directory: image contexts are relative to it. */
  dir: string;
  /** Where contexts are walked and kept (a watch session keeps one across builds). */
  contexts: ContextCache;
  /** Every build arg with a value. */
  args: ReadonlyMap<string, string>;
  /** `lockKey(use)` → pinned manifest digest, for every image the graph reads. */
  pins: ReadonlyMap<string, string>;
  platform: Platform;
  secrets: Secrets;
  /** Seconds: layer timestamps and `created`. */
  epoch: number;
  noCache?: boolean;
  concurrency?: number;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
  /**
   * The args each stage of an image declares in its emitted Dockerfile, by stage name: the image's
   * history has an `ARG` entry for each, as BuildKit's has (none when not given).
   */
  declaredArgs?: (image: ImageGraph) => ReadonlyMap<string, readonly string[]>;
}

/** What a cache record holds: the node's layer, or none when it changed nothing. */
interface StepRecord {
  layer: Layer | null;
}

/** A stage failed because a stage it reads failed; reported once, at the failing step. */
export class DependencyFailed extends Error {
  override name = 'DependencyFailed';
}

/** A step failed; carries where, for the one-line report. */
export class StepFailed extends Error {
  override name = 'StepFailed';
  constructor(
    readonly image: string,
    readonly stage: string,
    readonly index: number,
    readonly text: string,
    override readonly cause: unknown,
    message: string,
  ) {
    super(message);
  }
}

const FILE_OPS = new Set(['run', 'copy', 'add', 'workdir']);

export class Solver {
  private readonly stages = new Map<string, Promise<StageState>>();
  private readonly images = new Map<string, Promise<StageState>>();
  private readonly snapshots = new Map<string, Promise<string>>();
  private readonly queue: PQueue;
  /** Executed (not cached) file nodes, by `image/stage#index`: what the cache tests count. */
  readonly executed: string[] = [];
  /** Every step that failed, once each (the images that needed it fail with DependencyFailed). */
  readonly failed: StepFailed[] = [];
  /** Context directory → the sources steps read from it (as written, args expanded; '.' for all): what a watcher watches. */
  readonly inputs = new Map<string, Set<string>>();
  /** Downloads made for ADD <url> keys; removed by `cleanup()` when the build is over. */
  private readonly scratch: string[] = [];
  /** ms spent hashing inputs (walking contexts, digesting selections) and writing layers, summed over steps. */
  readonly timings = { hashMs: 0, layerMs: 0 };
  /** Every blob write still running after its step handed its layer on. */
  private readonly writes: Promise<Layer>[] = [];

  constructor(private readonly o: SolverOptions) {
    this.queue = new PQueue({ concurrency: o.concurrency ?? Math.max(2, Math.min(8, availableParallelism())) });
  }

  /**
   * Waits for the blob writes and unmounts still running (a failed image may leave some), then removes
   * what the build downloaded for ADD <url> steps. The build is over only then: its records are written.
   */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.writes);
    await unmountsDone();
    await Promise.all(this.scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  }

  /** The final state of an image's target stage, once every layer it was made from is in the store. */
  async solveImage(image: ImageGraph): Promise<ImageState> {
    const state = await this.stage(image, image.target);
    await Promise.all(state.pending);
    const layers = await Promise.all(state.layers.map((l) => ('layer' in l ? l.layer : l)));
    return { ...state, layers };
  }

  /** Snapshots of a state's layers, top first: overlay lowerdirs. */
  lowerdirs(state: StageState): Promise<string[]> {
    return Promise.all(
      [...state.layers].reverse().map((layer) => {
        let p = this.snapshots.get(layer.diffId);
        if (!p) {
          // A layer handed on without a snapshot gets one from its blob, once that is written.
          p =
            'layer' in layer
              ? layer.snapshot !== undefined
                ? Promise.resolve(layer.snapshot)
                : layer.layer.then((done) => layerSnapshot(this.o.store, done))
              : layerSnapshot(this.o.store, layer);
          this.snapshots.set(layer.diffId, p);
        }
        return p;
      }),
    );
  }

  private stage(image: ImageGraph, name: string): Promise<StageState> {
    const stage = image.stages.find((s) => s.name === name);
    if (!stage) throw new Error(`image "${image.name}" has no stage "${name}"`);
    const last = stage.nodes.at(-1)?.id ?? stage.baseDigest;
    // Stages with the same definition and context are one piece of work, whichever image asks.
    const key = `${image.context}\0${image.ignore.join('\n')}\0${last}`;
    let p = this.stages.get(key);
    if (!p) {
      p = this.runStage(image, stage);
      this.stages.set(key, p);
    }
    return p;
  }

  private imageState(ref: string, platform: string | undefined): Promise<StageState> {
    const use = { ref: this.expand(ref), platform: platform ? this.expand(platform) : formatPlatform(this.o.platform) };
    const key = lockKey(use);
    let p = this.images.get(key);
    if (!p) {
      p = (async () => {
        const digest = this.o.pins.get(key);
        if (!digest) throw new Error(`image ${use.ref} (${use.platform}) is not pinned in images.lock.json`);
        const pulled = await pullImage(this.o.store, this.o.client, use.ref, digest);
        this.o.onEvent?.({ type: 'pull', ref: use.ref, digest });
        return {
          layers: pulled.layers,
          config: startStage(pulled.config),
          history: pulled.history,
          digest: imageState(digest),
          platform: pulled.platform,
          pending: [],
        };
      })();
      this.images.set(key, p);
    }
    return p;
  }

  private expand(word: string): string {
    return expandWord(word, this.o.args);
  }

  private async source(image: ImageGraph, source: Source): Promise<StageState> {
    if (source.kind === 'stage') return this.dependency(image, source.stage);
    if (source.kind === 'image') return this.imageState(source.ref, undefined);
    throw new Error('the context is not a stage');
  }

  private async dependency(image: ImageGraph, name: string): Promise<StageState> {
    try {
      return await this.stage(image, name);
    } catch (error) {
      throw error instanceof StepFailed || error instanceof DependencyFailed
        ? new DependencyFailed(`stage "${name}" failed`)
        : error;
    }
  }

  private async runStage(image: ImageGraph, stage: StageGraph): Promise<StageState> {
    let state: StageState;
    const base = stage.base;
    if (base.kind === 'scratch') {
      state = {
        layers: [],
        config: startStage({}),
        history: [],
        digest: SCRATCH_STATE,
        platform: this.o.platform,
        pending: [],
      };
    } else if (base.kind === 'image') {
      state = await this.imageState(base.ref, base.platform);
    } else {
      const from = await this.dependency(image, base.stage);
      state = { ...from, config: startStage(from.config.config) };
    }
    const args = this.stageArgs(stage, state.platform);
    const declared = this.o.declaredArgs?.(image).get(stage.name) ?? [];
    state = {
      ...state,
      history: [...state.history, ...declared.map((name) => ({ created_by: `ARG ${name}`, empty_layer: true }))],
    };
    for (const [i, node] of stage.nodes.entries()) {
      state = await this.node(image, stage, i, node, state, args, declared);
    }
    return state;
  }

  /** Args a stage declares (those its nodes use) with their values: what its RUN steps see. */
  private stageArgs(stage: StageGraph, platform: Platform): Map<string, string> {
    const builtin = new Map<string, string>([
      ['TARGETPLATFORM', formatPlatform(platform)],
      ['TARGETOS', platform.os],
      ['TARGETARCH', platform.architecture],
      ['TARGETVARIANT', platform.variant ?? ''],
      ['BUILDPLATFORM', formatPlatform(this.o.platform)],
      ['BUILDOS', this.o.platform.os],
      ['BUILDARCH', this.o.platform.architecture],
      ['BUILDVARIANT', this.o.platform.variant ?? ''],
    ]);
    const out = new Map<string, string>();
    for (const name of new Set(stage.nodes.flatMap((n) => n.args))) {
      const value = this.o.args.get(name) ?? builtin.get(name);
      if (value !== undefined) out.set(name, value);
    }
    return out;
  }

  private async node(
    image: ImageGraph,
    stage: StageGraph,
    i: number,
    node: Node,
    state: StageState,
    args: ReadonlyMap<string, string>,
    declared: readonly string[] = [],
  ): Promise<StageState> {
    const text = oneLine(instructionLine(node));
    const event = {
      type: 'step' as const,
      image: image.name,
      stage: stage.name,
      index: i + 1,
      total: stage.nodes.length,
      text,
    };
    let config: ConfigState;
    try {
      config = applyNode(state.config, node, args);
    } catch (error) {
      // A value an arg gave that the instruction cannot take (EXPOSE of a word that is no port).
      throw this.stepFailed(event, error, 0);
    }
    const vars = wordVars(state.config, args);
    const createdBy = createdByOf(node, {
      x: (word) => expandWord(word, vars),
      before: state.config.config,
      after: config.config,
      declared,
      argValue: (name) => args.get(name),
    });
    if (!FILE_OPS.has(node.op)) {
      return {
        ...state,
        config,
        history:
          createdBy === undefined ? state.history : [...state.history, { created_by: createdBy, empty_layer: true }],
        digest: configState(state.digest, config.config),
      };
    }
    const { key, run, dependsOn } = await this.prepare(image, stage, i, node, state, config, args);
    const record = this.o.noCache ? undefined : await this.o.store.getRecord<StepRecord>(key);
    let layer: Layer | LayerWrite | undefined;
    const pending = new Set([...state.pending, ...dependsOn.flatMap((d) => d.pending)]);
    const fail = (error: unknown, ms: number): StepFailed => this.stepFailed(event, error, ms);
    if (record && (record.layer === null || (await this.o.store.hasBlob(record.layer.digest)))) {
      layer = record.layer ?? undefined;
      await this.o.store.touchRecord(key);
      this.o.onEvent?.({ ...event, state: 'cached' });
    } else {
      let started = Date.now();
      const made = await this.queue.add(
        async () => {
          this.o.signal?.throwIfAborted();
          this.o.onEvent?.({ ...event, state: 'running' });
          started = Date.now();
          try {
            const made = await run();
            this.o.onEvent?.({ ...event, state: 'done', ms: Date.now() - started });
            return made;
          } catch (error) {
            throw fail(error, Date.now() - started);
          }
        },
        { throwOnTimeout: true },
      );
      this.executed.push(`${image.name}/${stage.name}#${i + 1}`);
      if (made) {
        // Recorded once its blob is in the store; the next step need not wait for that.
        const recorded = made.layer.then(
          async (done) => {
            await this.o.store.putRecord(key, { layer: done } satisfies StepRecord);
            return done;
          },
          (error: unknown) => {
            throw fail(error, Date.now() - started);
          },
        );
        recorded.catch(() => {}); // awaited by the images made from it, and by cleanup()
        this.writes.push(recorded);
        pending.add(recorded);
        layer = { ...made, layer: recorded };
      } else {
        await this.o.store.putRecord(key, { layer: null } satisfies StepRecord);
      }
    }
    const history: HistoryEntry = { created_by: createdBy ?? text };
    if (!layer) history.empty_layer = true;
    return {
      ...state,
      config,
      layers: layer ? [...state.layers, layer] : state.layers,
      history: [...state.history, history],
      digest: layerState(configState(state.digest, config.config), layer?.diffId),
      pending: [...pending],
    };
  }

  /** Reports a step's failure (an event, and once in `failed`) and gives the error its stage fails with. */
  private stepFailed(event: Omit<StepEvent, 'state' | 'ms'>, error: unknown, ms: number): StepFailed {
    this.o.onEvent?.({ ...event, state: 'failed', ms });
    const why = this.o.secrets.mask(
      error instanceof ExecError
        ? `exited with code ${error.exitCode}${error.outputTail ? `; its last output:\n${error.outputTail.replace(/^/gm, '  ')}` : ''}`
        : error instanceof Error
          ? error.message
          : String(error),
    );
    const { image, stage, index, text } = event;
    const failure = new StepFailed(
      image,
      stage,
      index,
      text,
      error,
      `${image}/${stage} step ${index} (${text}): ${why}`,
    );
    this.failed.push(failure);
    return failure;
  }

  /** The node's cache key, and how to execute it on a miss. Reading inputs here waits for the stages they come from. */
  private async prepare(
    image: ImageGraph,
    stage: StageGraph,
    index: number,
    node: Node,
    state: StageState,
    /** The config after this node (WORKDIR changes it); computed once by the caller. */
    after: ConfigState,
    stageArgs: ReadonlyMap<string, string>,
  ): Promise<{ key: string; run: () => Promise<LayerWrite | undefined>; dependsOn: StageState[] }> {
    const o = this.o;
    const reads: Record<string, string> = {};
    // The stages this node copies or mounts from: its state is made from theirs too.
    const states: StageState[] = [];
    const usedArgs = (names: Iterable<string>): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const n of names) {
        const v = stageArgs.get(n);
        if (v !== undefined) out[n] = v;
      }
      return out;
    };
    const vars = wordVars(state.config, stageArgs);
    const x = (word: string): string => expandWord(word, vars);
    const base = { store: o.store, epoch: o.epoch, timings: this.timings, ...(o.signal ? { signal: o.signal } : {}) };
    // The epoch is in every layer's timestamps: layers made under another one are other layers.
    reads.epoch = String(o.epoch);
    const key = (args: Record<string, string>): string =>
      cacheKey({ node, parent: configState(state.digest, after.config), reads, args });

    switch (node.op) {
      case 'workdir': {
        const path = after.config.WorkingDir ?? '/';
        reads.user = state.config.config.User ?? '';
        return {
          key: key(usedArgs(node.args)),
          dependsOn: states,
          run: async () =>
            workdirNode({ ...base, lowerdirs: await this.lowerdirs(state), path, user: state.config.config.User }),
        };
      }
      case 'run': {
        const sources: (MountSource | undefined)[] = [];
        for (const [i, m] of node.mounts.entries()) {
          const from = mountFrom(m);
          if (!from) {
            sources.push(undefined);
          } else if (from.kind === 'context') {
            const hashing = performance.now();
            const ctx = await this.context(image);
            this.reads(ctx.dir, [m.type === 'bind' ? (m.source ?? '.') : '.']);
            const source = m.type === 'bind' ? (m.source ?? '.') : '.';
            reads[`mount:${i}`] = (await ctx.select(`bind\0${source}`, (index) => selectBind(index, source))).digest;
            this.timings.hashMs += performance.now() - hashing;
            sources.push({ kind: 'context', dir: ctx.dir, index: () => ctx.index(), filtered: ctx.filtered });
          } else {
            const dep = await this.source(image, from);
            states.push(dep);
            reads[`mount:${i}`] = dep.digest;
            sources.push({ kind: 'state', lowerdirs: await this.lowerdirs(dep) });
          }
        }
        return {
          // RUN sees every arg its stage declares, as env: all of them are part of what it does.
          key: key(usedArgs(stageArgs.keys())),
          dependsOn: states,
          run: async () =>
            runNode({
              ...base,
              node,
              lowerdirs: await this.lowerdirs(state),
              config: state.config.config,
              args: stageArgs,
              sources,
              secrets: o.secrets,
              env: o.env ?? process.env,
              onOutput: (stream, text) =>
                o.onEvent?.({ type: 'output', image: image.name, stage: stage.name, index: index + 1, stream, text }),
            }),
        };
      }
      case 'copy':
      case 'add': {
        const dest = absoluteDest(x(node.dest), state.config.config.WorkingDir);
        const all = node.sources.map(x);
        const urls = node.op === 'add' ? all.filter(isUrl) : [];
        const sources = all.filter((s) => !isUrl(s));
        const exclude = node.exclude?.map(x);
        // Made when the step runs: a context selection is only listed then.
        let from: () => Promise<CopyFrom>;
        const fromSource = node.op === 'copy' ? node.from : ({ kind: 'context' } as const);
        if (fromSource.kind === 'context') {
          const hashing = performance.now();
          const ctx = await this.context(image);
          this.reads(ctx.dir, sources);
          const spec = { sources, dest, ...(exclude ? { exclude } : {}) };
          const selected = await ctx.select(`copy\0${JSON.stringify(spec)}`, (index) =>
            sources.length > 0 ? selectSources(index, spec) : [],
          );
          reads.context = selected.digest;
          this.timings.hashMs += performance.now() - hashing;
          from = async () => ({
            kind: 'context',
            dir: ctx.dir,
            selection: await selected.selection(),
            index: await ctx.index(),
          });
        } else {
          const dep = await this.source(image, fromSource);
          states.push(dep);
          reads.from = dep.digest;
          const lowerdirs = await this.lowerdirs(dep);
          from = () => Promise.resolve({ kind: 'state', lowerdirs });
        }
        const chown = node.chown === undefined ? undefined : x(node.chown);
        const chmod = node.chmod === undefined ? undefined : x(node.chmod);
        // ADD <url> without a checksum: its content is only known by fetching it, so the key holds
        // the fetched digest, and the step (if it runs) adds the very bytes that were hashed.
        let downloaded: Map<string, string> | undefined;
        if (urls.length > 0) {
          const checksum = node.op === 'add' ? node.checksum : undefined;
          if (checksum) reads.urls = `${urls.join(' ')} ${checksum}`;
          else {
            downloaded = new Map();
            const digests: string[] = [];
            for (const url of urls) {
              const dir = scratchDir(o.store, 'add');
              this.scratch.push(dir);
              const got = await downloadUrl(url, dir, o.signal);
              downloaded.set(url, got.file);
              digests.push(`${url} ${got.digest}`);
            }
            reads.urls = digests.join(' ');
          }
        }
        return {
          key: key(usedArgs(node.args)),
          dependsOn: states,
          run: async () =>
            copyNode({
              ...base,
              lowerdirs: await this.lowerdirs(state),
              from: await from(),
              // A later step of the stage that touches files mounts this layer; it almost always
              // runs too, as its key holds this step's output.
              snapshot: stage.nodes.slice(index + 1).some((n) => FILE_OPS.has(n.op)),
              sources,
              dest,
              ...(exclude ? { exclude } : {}),
              ...(chown !== undefined ? { chown } : {}),
              ...(chmod !== undefined ? { chmod } : {}),
              ...(node.op === 'add'
                ? {
                    add: {
                      urls,
                      ...(node.checksum ? { checksum: node.checksum } : {}),
                      ...(downloaded ? { downloaded } : {}),
                    },
                  }
                : {}),
            }),
        };
      }
      default:
        throw new Error(`not a file op: ${node.op}`);
    }
  }

  private reads(dir: string, sources: readonly string[]): void {
    let set = this.inputs.get(dir);
    if (!set) this.inputs.set(dir, (set = new Set()));
    for (const source of sources) set.add(source);
  }

  private context(image: ImageGraph) {
    return this.o.contexts.get(this.o.dir, image);
  }
}

function mountFrom(m: MountSpec): Source | undefined {
  if (m.type === 'bind') return m.from;
  if (m.type === 'cache') return m.from;
  return undefined;
}

const isUrl = (s: string): boolean => /^https?:\/\//.test(s);

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}
