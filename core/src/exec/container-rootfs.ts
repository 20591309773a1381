/**
 * A step's overlay mounted by runc itself, in the container's own mount namespace (an OCI mount at
 * `/`), instead of by a mount process here: no mount and no umount process on the step's critical
 * path (~10 ms of a RUN, measured), and nothing to unmount, since the mount goes with the
 * namespace when the container's last process exits.
 *
 * What the step needs of the merged view before it starts, which of its mount points are missing
 * (they are kept out of the layer, stubs.ts), is looked up in the lowerdirs (oci/lowerdir-view.ts):
 * the upperdir is empty then. runc creates a missing working directory as the host mount path does
 * (mkdir -p, 0755, root), through the container's root.
 *
 * Used only where it gives the same result as mounting here: the kernel takes overlay's volatile
 * option, the options fit the page a mount takes, and no mount point lies behind a symlink. The
 * caller mounts on the host otherwise.
 */
import { posix } from 'node:path';
import { lookupLowerdirs } from '../oci/index.js';
import { volatileOverlayOptions, volatileSupported } from './overlay.js';
import type { RuntimeMount } from './spec.js';

export interface ContainerRootfs {
  /** The mount at `/` for the runtime spec, before every other mount. */
  mount: RuntimeMount;
  /** The mount points missing from the image, as missingPaths (stubs.ts) gives them. */
  stubs: string[];
}

export async function containerRootfs(
  overlay: { lowerdirs: readonly string[]; upperdir: string; workdir: string },
  destinations: readonly string[],
): Promise<ContainerRootfs | undefined> {
  if (!volatileSupported()) return undefined;
  const options = volatileOverlayOptions(overlay);
  if (!options) return undefined;
  // Every prefix of every mount point, each once, parents first.
  const prefixes = [
    ...new Set(
      destinations.flatMap((dest) => {
        const parts = posix.normalize(`/${dest}`).split('/').filter(Boolean);
        return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
      }),
    ),
  ];
  const merged = await lookupLowerdirs(overlay.lowerdirs, prefixes);
  if (!merged) return undefined;
  const stubs: string[] = [];
  for (const prefix of prefixes) {
    const entry = merged.get(prefix);
    if (entry === null || entry === 'deleted' || entry === undefined) stubs.push(prefix);
    // The mounted path resolves a link before it looks, as runc does: left to it.
    else if (entry.stat.isSymbolicLink()) return undefined;
  }
  return { mount: { destination: '/', type: 'overlay', source: 'overlay', options }, stubs };
}
