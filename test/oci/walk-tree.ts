import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Relative paths below root, sorted, symlinks not followed. */
export async function walkTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      out.push(path);
      if ((await lstat(join(root, path))).isDirectory()) await visit(path);
    }
  };
  await visit('');
  return out;
}
