import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { setImmediate } from 'node:timers/promises';

export interface WalkedPath {
  /** Relative posix path below the root. */
  path: string;
  abs: string;
  stat: Stats;
}

// Synchronous calls: for trees of many small files, a promise and a thread-pool round trip per lstat cost
// several times the system call itself. Yielding every so often keeps timers (lock refreshes) running.
const YIELD_EVERY = 1000;

/** Every path below `root` (not the root itself), with lstat; symlinks are never followed. */
export async function walk(root: string): Promise<WalkedPath[]> {
  const out: WalkedPath[] = [];
  let sinceYield = 0;
  const visit = async (rel: string): Promise<void> => {
    const names = readdirSync(rel ? join(root, rel) : root);
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(root, path);
      const stat = lstatSync(abs);
      out.push({ path, abs, stat });
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await setImmediate();
      }
      if (stat.isDirectory()) await visit(path);
    }
  };
  await visit('');
  return out;
}
