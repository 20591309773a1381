import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalkedPath {
  /** Relative posix path below the root. */
  path: string;
  abs: string;
  stat: Stats;
}

/** Every path below `root` (not the root itself), with lstat; symlinks are never followed. */
export async function walk(root: string): Promise<WalkedPath[]> {
  const out: WalkedPath[] = [];
  const visit = async (rel: string): Promise<void> => {
    const names = await readdir(rel ? join(root, rel) : root);
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(root, path);
      const stat = await lstat(abs);
      out.push({ path, abs, stat });
      if (stat.isDirectory()) await visit(path);
    }
  };
  await visit('');
  return out;
}
