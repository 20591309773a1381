/**
 * `images.lock.json`: every image a build reads (stage bases, COPY --from and mount sources that
 * are images) pinned to a manifest digest, per platform. Builds use the digest, so a tag moving in
 * the registry changes nothing until the lock is refreshed (`drydock build --update-lock`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Graph, Source } from '../graph/types.js';
import type { RegistryClient } from '../registry/index.js';
import { expandWord } from './expand.js';

export const LOCK_FILE = 'images.lock.json';
const LOCK_VERSION = 1;

export interface Lock {
  version: typeof LOCK_VERSION;
  /** `<reference> <os/arch>` → manifest digest. */
  images: Record<string, string>;
}

export interface ImageUse {
  ref: string;
  platform: string;
}

// Not localeCompare: the first call loads ICU's collator, ~6 ms of every build's start.
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const emptyLock = (): Lock => ({ version: LOCK_VERSION, images: {} });

export function lockKey(use: ImageUse): string {
  return `${use.ref} ${use.platform}`;
}

/** The images a graph reads, with build args expanded (as a Dockerfile expands FROM), deduplicated and sorted. */
export function imageUses(graph: Graph, defaultPlatform: string): ImageUse[] {
  const args = new Map(graph.args.filter((a) => a.value !== undefined).map((a) => [a.name, a.value!]));
  const uses = new Map<string, ImageUse>();
  const add = (ref: string, platform?: string): void => {
    const use = { ref: expandWord(ref, args), platform: platform ? expandWord(platform, args) : defaultPlatform };
    uses.set(lockKey(use), use);
  };
  const fromSource = (s: Source | undefined): void => {
    if (s?.kind === 'image') add(s.ref);
  };
  for (const image of graph.images) {
    for (const stage of image.stages) {
      if (stage.base.kind === 'image') add(stage.base.ref, stage.base.platform);
      for (const node of stage.nodes) {
        if (node.op === 'copy') fromSource(node.from);
        if (node.op === 'run')
          for (const m of node.mounts) if (m.type === 'bind' || m.type === 'cache') fromSource(m.from);
      }
    }
  }
  return [...uses.values()].sort((a, b) => byCodeUnit(lockKey(a), lockKey(b)));
}

/**
 * Pins each use: from the lock when it has it (no network), else by resolving it in the registry.
 * `update` re-resolves everything. Returns the new lock and whether it differs from the old one.
 */
export async function pinImages(o: {
  uses: readonly ImageUse[];
  lock: Lock;
  client: RegistryClient;
  update?: boolean;
}): Promise<{ lock: Lock; digests: Map<string, string>; changed: boolean }> {
  const images: Record<string, string> = { ...o.lock.images };
  const digests = new Map<string, string>();
  for (const use of o.uses) {
    const key = lockKey(use);
    let digest = o.update ? undefined : images[key];
    if (digest === undefined) {
      const [os = 'linux', architecture = 'amd64', variant] = use.platform.split('/');
      const resolved = await o.client.resolve(use.ref, {
        platform: { os, architecture, ...(variant ? { variant } : {}) },
      });
      digest = resolved.digest;
    }
    images[key] = digest;
    digests.set(key, digest);
  }
  const lock: Lock = { version: LOCK_VERSION, images: sorted(images) };
  return {
    lock,
    digests,
    changed: serializeLock(lock) !== serializeLock({ ...o.lock, images: sorted(o.lock.images) }),
  };
}

function sorted(images: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(images).sort(([a], [b]) => byCodeUnit(a, b)));
}

export function serializeLock(lock: Lock): string {
  return JSON.stringify({ version: lock.version, images: sorted(lock.images) }, null, 2) + '\n';
}

/** An absent lock is empty; an unreadable one is an error naming the file, never silently replaced. */
export async function readLock(file: string): Promise<Lock> {
  let text: string;
  try {
    // In one call, not four thread-pool round trips (see context/index.ts ignorePatterns).
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyLock();
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not valid JSON; fix it or delete it and run drydock build --update-lock`);
  }
  const lock = parsed as Partial<Lock>;
  if (lock?.version !== LOCK_VERSION || typeof lock.images !== 'object' || lock.images === null) {
    throw new Error(`${file}: expected { "version": ${LOCK_VERSION}, "images": { … } }`);
  }
  for (const [key, digest] of Object.entries(lock.images)) {
    if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw new Error(`${file}: images["${key}"] is not a sha256 digest`);
    }
  }
  return { version: LOCK_VERSION, images: { ...lock.images } };
}

/**
 * Written atomically (temp file + rename): an interrupted write never leaves half a lock. Pins
 * another build of the project wrote since this one read the file are kept (builds run at once
 * each pin what they read); for an image both pinned, this build's digest is written. Returns
 * the lock as it is on disk then.
 *
 * The temp file is made in `tmpDir` (the store's) when that is on the lock's filesystem: a
 * concurrent build whose context holds the project would otherwise list it, and find it gone.
 */
export async function writeLock(file: string, lock: Lock, tmpDir?: string): Promise<Lock> {
  const now = await readLock(file);
  const merged: Lock = { version: LOCK_VERSION, images: sorted({ ...now.images, ...lock.images }) };
  const text = serializeLock(merged);
  // Another build already wrote it: no write, so no temp file in the project a moment longer.
  if (text === serializeLock(now)) return merged;
  const name = randomBytes(4).toString('hex');
  const temps = [
    ...(tmpDir === undefined ? [] : [join(tmpDir, `lock-${process.pid}-${name}.json`)]),
    `${file}.${name}.tmp`,
  ];
  for (const tmp of temps) {
    await writeFile(tmp, text);
    try {
      await rename(tmp, file);
      return merged;
    } catch (e) {
      await rm(tmp, { force: true });
      // Only a store on another file system is worth the next place.
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    }
  }
  throw new Error(`${file}: could not be written`);
}
