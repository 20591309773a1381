/**
 * A stage's filesystem as a mount: an overlay of its layer snapshots with a fresh upperdir, for the
 * steps that need no container (COPY, ADD, WORKDIR), for reading an image (/etc/passwd), and for
 * mounting one stage into another's RUN step. Writes land in the upperdir, which the caller may
 * commit as a layer or throw away.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mountOverlay, unmount } from '../exec/overlay.js';
import type { Store } from '../store/index.js';
import { scratchDir } from './layers.js';

export interface MountedRootfs {
  /** The merged view. */
  rootfs: string;
  /** Where writes go. */
  upperdir: string;
  /** Unmounts and removes everything, the upperdir included unless `keepUpperdir`. */
  release(options?: { keepUpperdir?: boolean }): Promise<void>;
}

/** Mounts `lowerdirs` (top first; empty for scratch) with a new upperdir. */
export async function mountRootfs(store: Store, lowerdirs: readonly string[]): Promise<MountedRootfs> {
  const dir = scratchDir(store, 'rootfs');
  const upperdir = scratchDir(store, 'upper');
  const rootfs = join(dir, 'merged');
  const empty = join(dir, 'empty');
  const cleanup = async (keepUpperdir: boolean): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    if (!keepUpperdir) await rm(upperdir, { recursive: true, force: true });
  };
  try {
    await mkdir(rootfs);
    await mkdir(join(dir, 'work'));
    await mkdir(empty, { mode: 0o755 });
    await mountOverlay({
      lowerdirs: lowerdirs.length > 0 ? lowerdirs : [empty],
      upperdir,
      workdir: join(dir, 'work'),
      target: rootfs,
    });
  } catch (error) {
    await cleanup(false);
    throw error;
  }
  let released = false;
  return {
    rootfs,
    upperdir,
    async release(options = {}) {
      if (released) return;
      released = true;
      await unmount(rootfs);
      await cleanup(options.keepUpperdir ?? false);
    },
  };
}

/** Runs `fn` on the merged view and returns the upperdir holding what it wrote (the caller owns it). */
export async function writeRootfs(
  store: Store,
  lowerdirs: readonly string[],
  fn: (rootfs: string) => Promise<void>,
): Promise<string> {
  const mounted = await mountRootfs(store, lowerdirs);
  try {
    await fn(mounted.rootfs);
  } catch (error) {
    await mounted.release();
    throw error;
  }
  await mounted.release({ keepUpperdir: true });
  return mounted.upperdir;
}

/** Runs `fn` on the merged view; anything it writes is discarded. */
export async function readRootfs<T>(
  store: Store,
  lowerdirs: readonly string[],
  fn: (rootfs: string) => Promise<T>,
): Promise<T> {
  const mounted = await mountRootfs(store, lowerdirs);
  try {
    return await fn(mounted.rootfs);
  } finally {
    await mounted.release();
  }
}
