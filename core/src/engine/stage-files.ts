/**
 * The few files of a stage's filesystem that steps look names up in (/etc/passwd, /etc/group),
 * read straight from its layer snapshots: mounting the stage costs a mount and an unmount process,
 * ~10 ms, for two small reads. When a symlink lies on the way (an /etc that links elsewhere, a
 * passwd that is a link), the snapshots alone cannot tell what the mount would show, and the stage
 * is mounted after all.
 */
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { filesAt, type ImageFiles } from '../exec/index.js';
import { lookupLowerdirs } from '../oci/index.js';
import type { Store } from '../store/index.js';
import { readRootfs } from './rootfs.js';

/** Where USER and --chown names are looked up. */
export const USER_FILES = ['/etc/passwd', '/etc/group'] as const;

/** Reads `paths` (absolute container paths) of the stage whose snapshots are `lowerdirs` (top first). */
export async function stageFiles(
  store: Store,
  lowerdirs: readonly string[],
  paths: readonly string[],
): Promise<ImageFiles> {
  const rels = paths.map((p) => posix.normalize(`/${p}`).slice(1));
  const found = await lookupLowerdirs(lowerdirs, rels);
  const read = new Map<string, Promise<string>>();
  if (found && rels.every((rel) => !isLink(found.get(rel)))) {
    for (const [i, rel] of rels.entries()) {
      const entry = found.get(rel);
      read.set(
        paths[i]!,
        entry && entry !== 'deleted' ? readFile(entry.host, 'utf8') : Promise.reject(missing(paths[i]!)),
      );
    }
  } else {
    await readRootfs(store, lowerdirs, async (rootfs) => {
      const files = filesAt(rootfs);
      for (const path of paths) read.set(path, files(path));
      await Promise.allSettled(read.values());
    });
  }
  // Handled here; each caller's rejection is its own.
  for (const p of read.values()) p.catch(() => undefined);
  return (path) => read.get(path) ?? Promise.reject(new Error(`${path} was not read from the stage`));
}

function isLink(entry: { stat: { isSymbolicLink(): boolean } } | null | 'deleted' | undefined): boolean {
  return entry !== null && entry !== undefined && entry !== 'deleted' && entry.stat.isSymbolicLink();
}

function missing(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT', path });
}
