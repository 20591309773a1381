/**
 * `--run`: the image a watch cycle built, started as a container under runc (host network, as a
 * RUN step would run, on an overlay of the image's layers with a throwaway upperdir), its output
 * streamed, stopped with its STOPSIGNAL (else SIGTERM) and killed only if it outlives a grace
 * period. Nothing it writes survives it.
 */
import { rm } from 'node:fs/promises';
import { layerSnapshot, scratchDir, type Layer } from '../engine/layers.js';
import type { RuntimeConfig } from '../engine/image-config.js';
import { userIn } from '../engine/users.js';
import { ExecCancelled, ExecError, runStep, unmountsDone } from '../exec/index.js';
import type { Store } from '../store/index.js';

export interface RunningContainer {
  /** Settles when the process exits: its exit code, or null when it was stopped by us. */
  readonly exited: Promise<number | null>;
  /** Stops it (stop signal, then SIGKILL after the grace period) and waits until it is gone. */
  stop(): Promise<void>;
}

export interface StartOptions {
  store: Store;
  manifestDigest: string;
  /** ms between the stop signal and SIGKILL. */
  graceMs?: number;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

interface ImageFiles {
  layers: Layer[];
  config: RuntimeConfig;
}

export async function startContainer(o: StartOptions): Promise<RunningContainer> {
  const image = await readImage(o.store, o.manifestDigest);
  const args = [...(image.config.Entrypoint ?? []), ...(image.config.Cmd ?? [])];
  if (args.length === 0) throw new Error('--run: the image has neither an entrypoint nor a command');
  const lowerdirs = await Promise.all([...image.layers].reverse().map((layer) => layerSnapshot(o.store, layer)));
  const user = await userIn(o.store, lowerdirs, image.config.User || 'root');
  const upperdir = scratchDir(o.store, 'run-upper');
  const scratch = scratchDir(o.store, 'run');
  const abort = new AbortController();
  const exited = runStep({
    lowerdirs,
    upperdir,
    scratch,
    process: {
      args,
      env: image.config.Env ?? [],
      cwd: image.config.WorkingDir || '/',
      uid: user.uid,
      gid: user.gid,
      additionalGids: user.additionalGids,
    },
    network: 'host',
    signal: abort.signal,
    stop: { signal: image.config.StopSignal || 'TERM', timeoutMs: o.graceMs ?? 5000 },
    onOutput: (stream, chunk) => o.onOutput?.(stream, chunk.toString('utf8')),
  }).then(
    () => 0,
    (error: unknown) => {
      if (error instanceof ExecCancelled) return null;
      if (error instanceof ExecError) return error.exitCode;
      throw error;
    },
  );
  const cleanup = exited
    .catch(() => undefined)
    .finally(async () => {
      // runStep unmounts the container's rootfs in the background: nothing is removed before that.
      await unmountsDone();
      await rm(upperdir, { recursive: true, force: true });
      await rm(scratch, { recursive: true, force: true });
    });
  return {
    exited,
    async stop() {
      abort.abort();
      await cleanup;
    },
  };
}

async function readImage(store: Store, manifestDigest: string): Promise<ImageFiles> {
  const manifest = JSON.parse((await store.readBlobBytes(manifestDigest)).toString('utf8')) as {
    config: { digest: string };
    layers: { digest: string; size: number; mediaType: string }[];
  };
  const config = JSON.parse((await store.readBlobBytes(manifest.config.digest)).toString('utf8')) as {
    config?: RuntimeConfig;
    rootfs: { diff_ids: string[] };
  };
  return {
    layers: manifest.layers.map((l, i) => ({ ...l, diffId: config.rootfs.diff_ids[i]! })),
    config: config.config ?? {},
  };
}
