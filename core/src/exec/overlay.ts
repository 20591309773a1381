import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { tool } from './host.js';

/** Unmounts started and not yet done (unmountLater): a new mount waits for them. */
const unmounting = new Set<Promise<void>>();

/** Overlay stacks at most this many lowerdirs (the kernel's OVL_MAX_STACK). */
const MAX_LOWERDIRS = 500;
/** Mount options must fit in one page, `,volatile` included. */
const MAX_OPTIONS = 4000;

/** Whether this kernel takes overlay's `volatile` option (Linux 5.10+); known after the first mount. */
let volatileWorks: boolean | undefined;

/** Whether overlay mounts may be volatile: as a host mount found, else as the kernel's version says. */
export function volatileSupported(): boolean {
  if (volatileWorks !== undefined) return volatileWorks;
  const [major = 0, minor = 0] = release().split('.').map(Number);
  return major > 5 || (major === 5 && minor >= 10);
}

/** Overlay's mount options, `volatile` last (mount() drops it on kernels without it). */
function overlayOptions(lowerdirs: readonly string[], upperdir: string, workdir: string): string[] {
  return [`lowerdir=${lowerdirs.join(':')}`, `upperdir=${upperdir}`, `workdir=${workdir}`, 'volatile'];
}

/** A path overlay options cannot carry (`,` and `:` separate them), if any. */
function unsafePath(o: { lowerdirs: readonly string[]; upperdir: string; workdir: string }): string | undefined {
  return [...o.lowerdirs, o.upperdir, o.workdir].find((dir) => /[,:]/.test(dir));
}

/**
 * The options of a volatile overlay of `lowerdirs` (top first) for a mount made elsewhere (runc,
 * in a container's namespace): undefined when they would not fit the page a mount takes, or a path
 * holds a character overlay options cannot carry.
 */
export function volatileOverlayOptions(o: {
  lowerdirs: readonly string[];
  upperdir: string;
  workdir: string;
}): string[] | undefined {
  if (o.lowerdirs.length === 0 || unsafePath(o) !== undefined) return undefined;
  const options = overlayOptions(o.lowerdirs, o.upperdir, o.workdir);
  return options.join(',').length > MAX_OPTIONS ? undefined : options;
}

/**
 * Mounts an overlayfs: `lowerdirs` top first, writes go to `upperdir`.
 *
 * The kernel takes mount options of one page at most: about 40 lowerdirs at the store's paths. A
 * longer chain (a big image, a long stage) is mounted through short relative names instead, links
 * to the lowerdirs in a directory beside the workdir, which the kernel resolves from the mount
 * process's working directory (containerd does the same with relative paths). The links are
 * removed once mounted: the mount holds the directories, not their names.
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
  const unsafe = unsafePath(o);
  if (unsafe !== undefined) throw new Error(`overlay path may not contain , or : (${unsafe})`);
  if (o.lowerdirs.length > MAX_LOWERDIRS) {
    throw new Error(`${o.lowerdirs.length} layers to mount: overlayfs stacks at most ${MAX_LOWERDIRS}`);
  }
  const optionsWith = (lowers: readonly string[]): string => overlayOptions(lowers, o.upperdir, o.workdir).join(',');
  let options = optionsWith(o.lowerdirs);
  let links: string | undefined;
  if (options.length > MAX_OPTIONS) {
    links = `${o.workdir}.lowers`;
    mkdirSync(links);
    const names = o.lowerdirs.map((dir, i) => {
      symlinkSync(dir, join(links!, i.toString(36)));
      return i.toString(36);
    });
    options = optionsWith(names);
  }
  try {
    await mount(options, o.target, links);
  } finally {
    if (links) rmSync(links, { recursive: true, force: true });
  }
}

/** mount -t overlay with `options` (ending in `,volatile`), without that option on kernels that lack it. */
async function mount(options: string, target: string, cwd: string | undefined): Promise<void> {
  const run = (o: string) => tool('mount', ['-t', 'overlay', 'overlay', '-o', o, target], cwd ? { cwd } : {});
  if (volatileWorks !== false) {
    try {
      await run(options);
      volatileWorks = true;
      return;
    } catch (error) {
      if (volatileWorks === true) throw error;
    }
  }
  await run(options.replace(/,volatile$/, ''));
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
