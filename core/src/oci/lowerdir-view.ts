/**
 * Paths of a stack of overlay lowerdirs looked up as the merged mount would show them, without
 * mounting it: a mount and an unmount cost two processes, and a step that only needs to know what
 * is at a handful of paths (where a COPY lands, what a COPY --from reads) can do with lstat calls
 * and one getfattr for the directories' xattrs (opaque marks, and what a copy-up would carry).
 *
 * Overlay's rules, as apply.ts writes lowerdirs: the topmost layer holding a path decides it; a
 * 0:0 character device there is a whiteout (the path is gone); a directory marked
 * trusted.overlay.opaque=y hides what lower layers hold below it. A symlink on the way is not
 * followed: the lookup gives up (undefined) and the caller mounts instead.
 */
import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { contentXattrs, readLayerXattrs } from './xattr.js';

/** What the merged view shows at a path. */
export interface MergedEntry {
  stat: Stats;
  /** The path in the layer that provides it. */
  host: string;
  /** Its xattrs, overlay's own (trusted.overlay.*) left out. */
  xattrs: Record<string, Buffer>;
  /** How many layers hold an entry at the path: 1 means a directory's whole tree comes from `host`. */
  holders: number;
}

/**
 * For each path (relative, no leading slash): the merged entry, `null` when the view shows nothing
 * there, or `'deleted'` when it shows nothing although some layer holds an entry at the path (a
 * whiteout, or an entry hidden below one): creating it in a new layer would need an opaque mark.
 * Undefined when a symlink lies on the way in some layer.
 */
export async function lookupLowerdirs(
  lowerdirs: readonly string[],
  paths: readonly string[],
): Promise<Map<string, MergedEntry | null | 'deleted'> | undefined> {
  // Every prefix of every path, in every layer, until the layer has nothing there.
  const stats = lowerdirs.map(() => new Map<string, Stats | null>());
  const dirs: { path: string; stat: Stats }[] = [];
  for (const rel of paths) {
    const parts = rel.split('/').filter(Boolean);
    for (const [j, layer] of lowerdirs.entries()) {
      let prefix = '';
      for (const [k, part] of parts.entries()) {
        prefix = prefix ? `${prefix}/${part}` : part;
        let st = stats[j]!.get(prefix);
        if (st === undefined) {
          st = lstatSync(join(layer, prefix), { throwIfNoEntry: false }) ?? null;
          stats[j]!.set(prefix, st);
          if (st?.isDirectory()) dirs.push({ path: join(layer, prefix), stat: st });
        }
        if (st === null) break;
        if (k < parts.length - 1 && st.isSymbolicLink()) return undefined;
        if (!st.isDirectory()) break;
      }
    }
  }
  const xattrs = await readLayerXattrs(dirs);
  const opaque = (host: string): boolean => xattrs.get(host)?.['trusted.overlay.opaque']?.toString() === 'y';
  const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

  const out = new Map<string, MergedEntry | null | 'deleted'>();
  for (const rel of paths) {
    const parts = rel.split('/').filter(Boolean);
    const path = parts.join('/');
    // Held by any layer at all, shown or not.
    const holders = stats.filter((layer) => layer.get(path)).length;
    let found: MergedEntry | null = null;
    // Layers top first, until one decides: it shows the path, or hides it from the layers below.
    let blocked = false;
    for (const [j, layer] of lowerdirs.entries()) {
      let prefix = '';
      for (const [k, part] of parts.entries()) {
        prefix = prefix ? `${prefix}/${part}` : part;
        const st = stats[j]!.get(prefix);
        if (!st) break;
        const host = join(layer, prefix);
        if (isWhiteout(st)) {
          blocked = true;
          break;
        }
        if (k === parts.length - 1) {
          // The topmost layer holding the path gives its metadata, merged with lower ones or not.
          found = { stat: st, host, xattrs: st.isDirectory() ? contentXattrs(xattrs.get(host)) : {}, holders };
          blocked = true;
          break;
        }
        // A file on the way hides the path; an opaque directory, whatever lower layers hold below it.
        if (!st.isDirectory()) {
          blocked = true;
          break;
        }
        if (opaque(host)) blocked = true;
      }
      if (blocked) break;
    }
    out.set(path, found ?? (holders > 0 ? 'deleted' : null));
  }
  return out;
}
