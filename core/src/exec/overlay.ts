import { tool } from './host.js';

/**
 * Mounts an overlayfs: `lowerdirs` top first, writes go to `upperdir`. The kernel limits mount
 * options to one page, so a long chain of lowerdirs fails here with a clear message.
 */
export async function mountOverlay(o: {
  lowerdirs: readonly string[];
  upperdir: string;
  workdir: string;
  target: string;
}): Promise<void> {
  if (o.lowerdirs.length === 0) throw new Error('overlay needs at least one lowerdir');
  for (const dir of [...o.lowerdirs, o.upperdir, o.workdir]) {
    if (/[,:]/.test(dir)) throw new Error(`overlay path may not contain , or : (${dir})`);
  }
  const options = `lowerdir=${o.lowerdirs.join(':')},upperdir=${o.upperdir},workdir=${o.workdir}`;
  if (options.length >= 4000) {
    throw new Error(
      `overlay options are ${options.length} bytes, over the kernel's page limit (${o.lowerdirs.length} lowerdirs)`,
    );
  }
  await tool('mount', ['-t', 'overlay', 'overlay', '-o', options, o.target]);
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
