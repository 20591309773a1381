// Cross-process locks, built on proper-lockfile: a lock is a directory `locks/<name>.lock` made with
// mkdir(2) (atomic on every local file system) whose mtime the holder refreshes every stale/2 ms. A
// lock whose mtime is older than `stale` belongs to a dead (or wedged) process and is taken over, so
// kill -9 never wedges the store for longer than `stale`.
//
// On top of the exclusive lock sits a readers/writer lock for the store as a whole (`gc`):
//   - a reader (a build) takes the `gc` mutex briefly, creates its own token lock in `locks/gc.shared/`
//     (also refreshed, also stale-detected), and releases the mutex; it holds the token while it runs;
//   - the writer (prune) takes the `gc` mutex and holds it throughout, so no new reader can start, then
//     waits until every token in `gc.shared/` is released or stale.
// Writers therefore never run alongside a reader, and waiting writers are not starved by new readers.
import lockfile from 'proper-lockfile';
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError, hasErrno } from './errors.js';
import { checkName } from './paths.js';

export interface LockConfig {
  readonly dir: string;
  /** ms after which an unrefreshed lock counts as abandoned (proper-lockfile's minimum is 2000). */
  readonly staleMs: number;
}

// Wait as long as it takes: a concurrent holder may be building a large snapshot. A dead holder is
// detected by staleness, so waiting forever only happens behind a live process.
const WAIT = { forever: true, factor: 1.5, minTimeout: 20, maxTimeout: 500, randomize: true } as const;

/** A held lock: `release()` throws ELOCKLOST if the lock was lost while held. */
export interface HeldLock {
  release(): Promise<void>;
}

const acquire = async (file: string, config: LockConfig, retries: object | number): Promise<HeldLock> => {
  let lost: Error | undefined;
  const release = await lockfile.lock(file, {
    realpath: false,
    stale: config.staleMs,
    retries,
    // proper-lockfile's default throws from a timer, which would crash the process; we report it instead.
    onCompromised: (error) => {
      lost = error;
    },
  });
  return heldLock(file, release, () => lost);
};

/** As acquire without retries, in this thread: throws ELOCKED at once when another holder has it. */
const acquireSync = (file: string, config: LockConfig): HeldLock => {
  let lost: Error | undefined;
  const release = lockfile.lockSync(file, {
    realpath: false,
    stale: config.staleMs,
    onCompromised: (error) => {
      lost = error;
    },
  });
  return heldLock(file, release, () => lost);
};

const heldLock = (file: string, release: () => unknown, lost: () => Error | undefined): HeldLock => ({
  async release() {
    const error = lost();
    if (error)
      throw new StoreError('ELOCKLOST', `lock ${file} was lost while held: ${error.message}`, { cause: error });
    await release();
  },
});

export const lockExclusive = async (config: LockConfig, name: string): Promise<HeldLock> => {
  await mkdir(config.dir, { recursive: true });
  return acquire(join(config.dir, checkName('lock name', name, 240)), config, WAIT);
};

/** Runs `fn` holding the exclusive cross-process lock `name`. */
export const withLock = async <T>(config: LockConfig, name: string, fn: () => Promise<T>): Promise<T> => {
  const held = await lockExclusive(config, name);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await held.release().catch(() => {});
    throw error;
  }
  await held.release();
  return result;
};

const sharedDir = (config: LockConfig, name: string) => join(config.dir, `${name}.shared`);

/** Takes a shared hold on `name` (see the scheme above). */
export const lockShared = async (config: LockConfig, name: string): Promise<HeldLock> => {
  const dir = sharedDir(config, checkName('lock name', name, 240));
  const token = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  // Uncontended, as nearly always, the hold is taken in this thread: about ten system calls, where
  // as many thread-pool round trips would each wait behind a build's start-up work (~20 ms measured).
  try {
    return lockSharedSync(config, name, dir, token);
  } catch (error) {
    if (!hasErrno(error, 'ELOCKED')) throw error;
  }
  await mkdir(dir, { recursive: true });
  return withLock(config, name, () => acquire(token, config, 0));
};

const lockSharedSync = (config: LockConfig, name: string, dir: string, token: string): HeldLock => {
  mkdirSync(dir, { recursive: true });
  const mutex = acquireSync(join(config.dir, name), config);
  try {
    return acquireSync(token, config);
  } finally {
    void mutex.release().catch(() => {});
  }
};

/** Runs `fn` holding `name` exclusively against both exclusive and shared holders. */
export const withExclusive = async <T>(config: LockConfig, name: string, fn: () => Promise<T>): Promise<T> =>
  withLock(config, name, async () => {
    await waitForNoReaders(config, sharedDir(config, checkName('lock name', name, 240)));
    return fn();
  });

const waitForNoReaders = async (config: LockConfig, dir: string): Promise<void> => {
  for (let delay = 20; ; delay = Math.min(delay * 1.5, 500)) {
    let live = 0;
    let entries: string[] = [];
    try {
      entries = await readdir(dir);
    } catch (error) {
      if (!hasErrno(error, 'ENOENT')) throw error;
    }
    for (const entry of entries) {
      if (!entry.endsWith('.lock')) continue;
      const token = join(dir, entry.slice(0, -'.lock'.length));
      // check() is false for a missing or stale token; an error (say EACCES) counts as live, never as gone.
      if (await lockfile.check(token, { realpath: false, stale: config.staleMs }).catch(() => true)) live++;
      // A stale token's holder is gone (or so wedged that its lock is already compromised): drop it.
      else await rm(join(dir, entry), { recursive: true, force: true });
    }
    if (live === 0) return;
    await sleep(delay);
  }
};
