import { tool } from './host.js';

/** Unmounts started and not yet done (unmountLater): a new mount waits for them. */
const unmounting = new Set<Promise<void>>();

/** Whether this kernel takes overlay's `volatile` option (Linux 5.10+); known after the first mount. */
let volatileWorks: boolean | undefined;

/**
 * Mounts an overlayfs: `lowerdirs` top first, writes go to `upperdir`. The kernel limits mount
 * options to one page, so a long chain of lowerdirs fails here with a clear message.
 *
 * Volatile where the kernel has it: the upperdir is read into a layer (whose blob is fsynced) and
 * its snapshot is marked as not yet on disk (store/unsynced.ts), so nothing needs the mount's own
 * syncs. Without it, every unmount flushes the whole upper file system (~5 ms), and every fsync
 * a step makes (npm does many) waits for the disk.
 */
export async function mountOverlay(o: {
  lowerdirs: readonly string[];
  upperdir: string;
  workdir: string;
  target: string;
}): Promise<void> {
  if (o.lowerdirs.length === 0) throw new Error('overlay needs at least one lowerdir');
  // The upperdir of a mount being torn down may be a lowerdir of this one (its step's snapshot):
  // overlay warns of layers shared with a live mount.
  await unmountsDone();
  for (const dir of [...o.lowerdirs, o.upperdir, o.workdir]) {
    if (/[,:]/.test(dir)) throw new Error(`overlay path may not contain , or : (${dir})`);
  }
  const options = `lowerdir=${o.lowerdirs.join(':')},upperdir=${o.upperdir},workdir=${o.workdir}`;
  if (options.length >= 4000) {
    throw new Error(
      `overlay options are ${options.length} bytes, over the kernel's page limit (${o.lowerdirs.length} lowerdirs)`,
    );
  }
  if (volatileWorks !== false) {
    try {
      await tool('mount', ['-t', 'overlay', 'overlay', '-o', `${options},volatile`, o.target]);
      volatileWorks = true;
      return;
    } catch (error) {
      if (volatileWorks === true) throw error;
    }
  }
  await tool('mount', ['-t', 'overlay', 'overlay', '-o', options, o.target]);
  // The same mount without the option worked: the kernel lacks it (or the first mount failed for
  // another reason, and this one would have failed too).
  volatileWorks = false;
}

export async function mountTmpfs(target: string, options = 'mode=0700'): Promise<void> {
  await tool('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', target]);
}

/** Unmounts, lazily if busy, so cleanup never leaves a mount behind. */
export async function unmount(target: string): Promise<void> {
  try {
    await tool('umount', [target]);
  } catch {
    await tool('umount', ['-l', target]);
  }
}

/**
 * Unmounts `target` and then runs `after` (removing its directory), without waiting: a finished
 * step's files are all in its upperdir, which needs no mount to be read. unmountsDone() waits.
 */
export function unmountLater(target: string, after: () => Promise<void> = async () => {}): void {
  const done: Promise<void> = unmount(target)
    .then(after)
    .catch(() => {}) // recover.ts reaps what a failed unmount leaves
    .finally(() => unmounting.delete(done));
  unmounting.add(done);
}

/** Runs `fn` (removing a directory that holds mount points) once the unmounts started so far are done. */
export function afterUnmounts(fn: () => Promise<void>): void {
  const earlier = [...unmounting];
  const done: Promise<void> = Promise.all(earlier)
    .then(fn)
    .catch(() => {}) // what is left is reaped by recover.ts
    .finally(() => unmounting.delete(done));
  unmounting.add(done);
}

/** Waits for the unmounts unmountLater started. */
export async function unmountsDone(): Promise<void> {
  while (unmounting.size > 0) await Promise.all(unmounting);
}
