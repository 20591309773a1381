/**
 * `build()`: a compiled project built by drydock's own engine. Pins the images it reads in
 * images.lock.json, solves every requested image (concurrently, sharing work), writes each
 * image's config and manifest into the store, and delivers it: --output, --load, --push.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ownerIsDead, reapContainers, unmountStale } from '../exec/index.js';
import { imageTags, loadImage, parseOutput, pushImage, writeOutput, type OutputSpec } from '../export/index.js';
import type { Graph, ImageGraph } from '../graph/types.js';
import {
  buildImageConfig,
  buildManifest,
  serializeImageConfig,
  serializeManifest,
  type ImageSource,
  type ImageTag,
} from '../oci/index.js';
import type { SecretSource, SecretSpecs } from '../dsl/types.js';
import { parseMirrors, RegistryClient } from '../registry/index.js';
import { Store } from '../store/index.js';
import { ContextCache, readsContext } from './contexts.js';
import {
  earlyChecksFile,
  forgetEarlyChecks,
  prepareRecordChecks,
  releaseRecordChecks,
  rememberChecks,
} from '../context/record-check.js';
import type { BuildEvent } from './events.js';
import { imageUses, LOCK_FILE, pinImages, readLock, writeLock } from './lock.js';
import { parseSecretFlag, Secrets } from './secrets.js';
import { DependencyFailed, formatPlatform, Solver, StepFailed } from './solver.js';
import { stageArgDeclarations } from '../dockerfile/index.js';
import type { ImageState, Platform } from './state.js';

export interface BuildOptions {
  graph: Graph;
  /** The config's directory: contexts, secret files and images.lock.json are relative to it. */
  dir: string;
  secrets: SecretSpecs;
  /** Images to build (default: all). */
  images?: readonly string[];
  /** Build this stage instead of the image's target (one image only). */
  target?: string;
  /** `--secret` flags: `id=ID,src=FILE` or `id=ID,env=VAR`. */
  secretFlags?: readonly string[];
  noCache?: boolean;
  /** Re-resolve every image the build reads and rewrite images.lock.json. */
  updateLock?: boolean;
  /** `--output` specs (buildx syntax); with several images, `dest` must contain `{image}`. */
  outputs?: readonly string[];
  load?: boolean;
  push?: boolean;
  /** `-t`: the names to give the image instead of the config's `tags` (one image only). */
  tags?: readonly string[];
  /** Store root (default DRYDOCK_HOME or ~/.cache/drydock). */
  storeRoot?: string;
  /**
   * The command line that asked for this build (its directory, then its arguments): the record
   * checks it needed are remembered for its next run, which asks for them as it starts.
   */
  invocation?: readonly string[];
  client?: RegistryClient;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  onEvent?: (event: BuildEvent) => void;
  concurrency?: number;
  /** What a long-lived process keeps between builds (openSession); by default each build opens its own. */
  session?: BuildSession;
}

/** The store, the registry client and the walked contexts: kept across builds by a watch session. */
export interface BuildSession {
  store: Store;
  client: RegistryClient;
  contexts: ContextCache;
  /** Whether leftovers of killed drydock processes were cleaned up already. */
  recovered: boolean;
}

export async function openSession(
  o: { storeRoot?: string; env?: NodeJS.ProcessEnv; client?: RegistryClient } = {},
): Promise<BuildSession> {
  const env = o.env ?? process.env;
  const store = await Store.open(o.storeRoot !== undefined ? { root: o.storeRoot } : {});
  // The build's env (not necessarily this process's) says which mirrors to use.
  const mirrors = env.DRYDOCK_REGISTRY_MIRRORS;
  const client =
    o.client ?? new RegistryClient({ envMirrors: false, ...(mirrors ? { mirrors: parseMirrors(mirrors) } : {}) });
  return { store, client, contexts: new ContextCache(join(store.paths.base, 'stat-cache')), recovered: false };
}

export interface BuiltImage {
  name: string;
  manifestDigest: string;
  configDigest: string;
  /** Names it was loaded or pushed under. */
  tags: string[];
  /** Steps this image asked for that executed (`stage#n`); the others came from the cache. */
  executed: string[];
}

/** Where a build's time went, in ms (steps overlap, so the parts need not add up to the total). */
export interface BuildTimings {
  /** Walking contexts and digesting what steps read, summed over steps. */
  hashMs: number;
  /** From the start of solving until every image's final state was known. */
  solveMs: number;
  /** Writing layer blobs, summed over steps. */
  layerMs: number;
  /** Writing image configs and manifests, and delivering them (--output, --load, --push). */
  exportMs: number;
  totalMs: number;
}

export interface BuildResult {
  images: BuiltImage[];
  /** Steps that executed (`image/stage#n`); everything else came from the cache. */
  executed: string[];
  /** One per failed step, and one per image that failed only because a dependency did. */
  failures: { image: string; message: string }[];
  lockChanged: boolean;
  timings: BuildTimings;
  /** Context directories read, each with the sources steps named in it ('.' for all of it). */
  inputs: { dir: string; sources: string[] }[];
}

export class BuildError extends Error {
  override name = 'BuildError';
}

/** The fixed epoch of layers and configs when SOURCE_DATE_EPOCH is not set. */
export const DEFAULT_EPOCH = 0;

export function hostPlatform(): Platform {
  const arch = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }[process.arch as string];
  return arch === 'arm'
    ? { os: 'linux', architecture: 'arm', variant: 'v7' }
    : { os: 'linux', architecture: arch ?? process.arch };
}

/**
 * Starts in the background what a build in this process needs first: the worker thread that checks
 * build contexts against their walk records. Optional; called before the project is loaded, its
 * start-up overlaps that work instead of delaying the build.
 */
export function prepareBuild(): void {
  prepareRecordChecks();
}

export async function build(o: BuildOptions): Promise<BuildResult> {
  const env = o.env ?? process.env;
  const images = selectImages(o.graph, o.images);
  if ((o.target !== undefined || (o.tags?.length ?? 0) > 0) && images.length !== 1) {
    throw new BuildError(
      `--target and -t need exactly one image (name it: drydock build <image>); ${images.length} selected`,
    );
  }
  const platform = hostPlatform();
  for (const image of images) {
    const wanted = image.platforms.filter((p) => p !== formatPlatform(platform));
    if (wanted.length > 0 || (image.platforms.length > 0 && !image.platforms.includes(formatPlatform(platform)))) {
      throw new BuildError(
        `image "${image.name}": platforms ${image.platforms.join(', ')}: drydock's engine builds for this machine's ${formatPlatform(platform)} only (emit the Dockerfile for cross-platform builds)`,
      );
    }
  }
  const targeted = images.map((image) => withTarget(image, o.target));
  const outputs = (o.outputs ?? []).map((spec) => parseOutput(spec));
  for (const out of outputs) {
    if ('dest' in out && images.length > 1 && !out.dest.includes('{image}')) {
      throw new BuildError(`--output dest=${out.dest}: several images are built; put {image} in dest`);
    }
  }
  const epoch = sourceDateEpoch(env);
  const secrets = new Secrets(o.secrets, overrides(o.secretFlags ?? []), o.dir, env, o.cwd ?? o.dir);
  const started = performance.now();
  const session =
    o.session ??
    (await openSession({
      env,
      ...(o.storeRoot !== undefined ? { storeRoot: o.storeRoot } : {}),
      ...(o.client ? { client: o.client } : {}),
    }));
  const { store, client } = session;
  const lockFile = join(o.dir, LOCK_FILE);
  const graph: Graph = { ...o.graph, images: targeted };
  const pinned = await pinImages({
    uses: imageUses(graph, formatPlatform(platform)),
    lock: await readLock(lockFile),
    client,
    ...(o.updateLock ? { update: true } : {}),
  });
  if (pinned.changed) {
    await writeLock(lockFile, pinned.lock, store.paths.tmp);
    forgetEarlyChecks();
  }
  // The contexts the images read are opened now: checking each against its walk record (on a
  // worker thread) or walking it then overlaps pulling the base images. Not before the lock is
  // written: a context holding the project sees images.lock.json, never its temporary file.
  const opening = targeted.filter(readsContext).map((image) => session.contexts.get(o.dir, image));
  // Then the worker is not needed any more this build.
  void Promise.allSettled(opening).then(() => {
    if (o.invocation) rememberChecks(earlyChecksFile(store.paths.base, o.invocation));
    releaseRecordChecks();
  });

  // Snapshots are renamed into place unflushed; those of earlier builds are flushed now, beside this
  // one (it takes longer than the flush; if not, the next build does it). A watch session flushes
  // when it is idle instead: a flush during a rebuild slows its steps' writes down.
  if (o.session === undefined) void store.settleSnapshots().catch(() => 0);

  return store.withBuild(async () => {
    // What dead processes left is theirs alone (their pids name it): it is cleared beside this build.
    const recovering = session.recovered ? undefined : recover(store);
    recovering?.catch(() => {});
    session.recovered = true;
    // As BuildKit's history of the emitted Dockerfile has them (an ARG entry per declared arg).
    const declaredByImage = new Map<string, Map<string, string[]>>();
    const solver = new Solver({
      store,
      client,
      dir: o.dir,
      contexts: session.contexts,
      args: new Map(o.graph.args.filter((a) => a.value !== undefined).map((a) => [a.name, a.value!])),
      pins: pinned.digests,
      platform,
      secrets,
      epoch,
      env,
      ...(o.noCache ? { noCache: true } : {}),
      ...(o.concurrency ? { concurrency: o.concurrency } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
      declaredArgs: (image) => {
        let declared = declaredByImage.get(image.name);
        if (!declared) declaredByImage.set(image.name, (declared = stageArgDeclarations(o.graph, image.name)));
        return declared;
      },
    });
    let solvedAt = started;
    let exportMs = 0;
    const settled = await Promise.allSettled(
      targeted.map(async (image) => {
        const state = await solver.solveImage(image);
        const exporting = performance.now();
        solvedAt = Math.max(solvedAt, exporting);
        const made = await writeImage(store, state, epoch);
        const tags = o.tags && o.tags.length > 0 ? [...o.tags] : [...image.tags];
        await deliver(image, made.source, tags, {
          outputs,
          load: o.load,
          push: o.push,
          client,
          epoch,
          signal: o.signal,
          images: images.length,
        });
        exportMs += performance.now() - exporting;
        return {
          name: image.name,
          manifestDigest: made.manifestDigest,
          configDigest: made.configDigest,
          tags: o.load && tags.length === 0 ? [`${image.name}:latest`] : tags,
          executed: solver.executed
            .filter((s) => s.startsWith(`${image.name}/`))
            .map((s) => s.slice(image.name.length + 1)),
        };
      }),
    );
    await solver.cleanup();
    await recovering;
    // A session that outlives this build (watch) saves its contexts' walk records when it ends.
    await session.contexts.save({ records: o.session === undefined });
    const result: BuildResult = {
      images: [],
      executed: solver.executed,
      failures: [],
      lockChanged: pinned.changed,
      inputs: [...solver.inputs].map(([dir, sources]) => ({ dir, sources: [...sources] })),
      timings: {
        hashMs: Math.round(solver.timings.hashMs),
        solveMs: Math.round(solvedAt - started),
        layerMs: Math.round(solver.timings.layerMs),
        exportMs: Math.round(exportMs),
        totalMs: Math.round(performance.now() - started),
      },
    };
    for (const failed of solver.failed) result.failures.push({ image: failed.image, message: failed.message });
    for (const [i, s] of settled.entries()) {
      if (s.status === 'fulfilled') result.images.push(s.value);
      // Step failures are reported above, once, where they happened.
      else if (!(s.reason instanceof StepFailed || s.reason instanceof DependencyFailed)) {
        result.failures.push({ image: targeted[i]!.name, message: failureMessage(s.reason, secrets) });
      } else if (s.reason instanceof DependencyFailed && !solver.failed.some((f) => f.image === targeted[i]!.name)) {
        result.failures.push({
          image: targeted[i]!.name,
          message: `image "${targeted[i]!.name}": ${s.reason.message}`,
        });
      }
    }
    return result;
  });
}

/** Cleans up after drydock processes that died mid-build: their containers, mounts and temp files. */
async function recover(store: Store): Promise<void> {
  await reapContainers();
  await unmountStale(store.paths.tmp);
  for (const name of await readdir(store.paths.tmp)) {
    if (ownerIsDead(name)) await rm(join(store.paths.tmp, name), { recursive: true, force: true });
  }
}

function failureMessage(reason: unknown, secrets: Secrets): string {
  return secrets.mask(reason instanceof Error ? reason.message : String(reason));
}

function selectImages(graph: Graph, names: readonly string[] | undefined): ImageGraph[] {
  if (!names || names.length === 0) return graph.images;
  return names.map((name) => {
    const image = graph.images.find((i) => i.name === name);
    if (!image) {
      throw new BuildError(`unknown image "${name}" (images: ${graph.images.map((i) => i.name).join(', ') || 'none'})`);
    }
    return image;
  });
}

function withTarget(image: ImageGraph, target: string | undefined): ImageGraph {
  if (target === undefined || target === image.target) return image;
  if (!image.stages.some((s) => s.name === target)) {
    throw new BuildError(
      `--target ${target}: image "${image.name}" does not use a stage "${target}" (stages: ${image.stages.map((s) => s.name).join(', ')})`,
    );
  }
  return { ...image, target };
}

function overrides(flags: readonly string[]): Map<string, SecretSource> {
  return new Map(
    flags.map((f) => {
      const { id, source } = parseSecretFlag(f);
      return [id, source];
    }),
  );
}

function sourceDateEpoch(env: NodeJS.ProcessEnv): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return DEFAULT_EPOCH;
  if (!/^\d+$/.test(raw)) throw new BuildError(`SOURCE_DATE_EPOCH=${raw}: expected whole seconds since 1970`);
  return Number(raw);
}

/** The image config and manifest of a final state, stored as blobs; returns what outputs read. */
async function writeImage(
  store: Store,
  state: ImageState,
  epoch: number,
): Promise<{ source: ImageSource; manifestDigest: string; configDigest: string }> {
  const config = buildImageConfig({
    architecture: state.platform.architecture,
    os: state.platform.os,
    ...(state.platform.variant ? { variant: state.platform.variant } : {}),
    epoch,
    config: state.config.config,
    diffIds: state.layers.map((l) => l.diffId),
    history: [...state.history],
  });
  const configBlob = serializeImageConfig(config);
  const manifest = serializeManifest(
    buildManifest(
      configBlob.descriptor,
      state.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ),
  );
  // Each is fsynced before its rename: the two flushes overlap.
  await Promise.all([
    store.putBlob(configBlob.bytes, { digest: configBlob.descriptor.digest }),
    store.putBlob(manifest.bytes, { digest: manifest.descriptor.digest }),
  ]);
  // What prune keeps: a built image's blobs stay as long as its record does (the same image built
  // again only touches it).
  await store.keepRecord(`image:${manifest.descriptor.digest}`, () => ({
    blobs: [manifest.descriptor.digest, configBlob.descriptor.digest, ...state.layers.map((l) => l.digest)],
  }));
  return {
    source: { manifest: manifest.bytes, config: configBlob.bytes, blobs: (digest) => store.readBlob(digest) },
    manifestDigest: manifest.descriptor.digest,
    configDigest: configBlob.descriptor.digest,
  };
}

async function deliver(
  image: ImageGraph,
  source: ImageSource,
  tags: string[],
  o: {
    outputs: OutputSpec[];
    load: boolean | undefined;
    push: boolean | undefined;
    client: RegistryClient;
    epoch: number;
    signal: AbortSignal | undefined;
    images: number;
  },
): Promise<void> {
  const named: ImageTag[] = imageTags(tags.length > 0 ? tags : [`${image.name}:latest`], `image "${image.name}" tags`);
  for (const out of o.outputs) {
    const spec = 'dest' in out ? { ...out, dest: out.dest.replaceAll('{image}', image.name) } : out;
    await writeOutput(spec, source, named, {
      client: o.client,
      epoch: o.epoch,
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }
  if (o.load) {
    await loadImage({
      image: source,
      tags: named.map((t) => t.name!).filter(Boolean),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }
  if (o.push) {
    if (tags.length === 0) {
      throw new BuildError(`image "${image.name}": --push needs a tag (the config's tags, or -t registry/name:tag)`);
    }
    await pushImage({ client: o.client, image: source, refs: tags, ...(o.signal ? { signal: o.signal } : {}) });
  }
}
