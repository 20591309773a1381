// Where everything lives. The layout is versioned (`<root>/v1/…`) so that a future drydock can change
// it without misreading an old store: it simply starts a `v2` next to it.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { StoreError } from './errors.js';

export const LAYOUT_VERSION = 'v1';

export interface StorePaths {
  /** The store root as configured (option, DRYDOCK_HOME, or ~/.cache/drydock). */
  readonly root: string;
  /** `<root>/v1`: everything this version writes is below it. */
  readonly base: string;
  readonly blobs: string;
  readonly snapshots: string;
  readonly index: string;
  readonly tmp: string;
  readonly locks: string;
  /** Markers of snapshots not yet known to be on disk, by boot (unsynced.ts). */
  readonly unsynced: string;
}

/** The option wins, then DRYDOCK_HOME, then ~/.cache/drydock. */
export const resolveRoot = (option?: string, env: NodeJS.ProcessEnv = process.env): string => {
  if (option) return resolve(option);
  if (env.DRYDOCK_HOME) return resolve(env.DRYDOCK_HOME);
  return join(homedir(), '.cache', 'drydock');
};

export const storePaths = (root: string): StorePaths => {
  const base = join(root, LAYOUT_VERSION);
  return {
    root,
    base,
    blobs: join(base, 'blobs', 'sha256'),
    snapshots: join(base, 'snapshots'),
    index: join(base, 'index'),
    tmp: join(base, 'tmp'),
    locks: join(base, 'locks'),
    unsynced: join(base, 'unsynced'),
  };
};

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** The hex part of a `sha256:<64 hex>` digest; anything else (other algorithms, upper case) is EINVAL. */
export const digestHex = (digest: string): string => {
  const match = DIGEST.exec(digest);
  if (!match?.[1]) throw new StoreError('EINVAL', `not a sha256 digest: ${JSON.stringify(digest)}`);
  return match[1];
};

// Snapshot ids and lock names become single path components: no separators, no dot-only names, and a
// length that fits a file name (255 bytes) with the prefixes and suffixes we add (`snapshot-`, `.lock`).
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._:-]*$/;

export const checkName = (kind: string, name: string, maxLength = 200): string => {
  if (!NAME.test(name) || name.length > maxLength) {
    throw new StoreError('EINVAL', `invalid ${kind} ${JSON.stringify(name)}`);
  }
  return name;
};

/** Record keys are arbitrary strings; their file name is the sha256 of the key (the key is kept inside). */
export const recordFileName = (key: string): string => `${createHash('sha256').update(key).digest('hex')}.json`;
