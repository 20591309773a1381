/**
 * Recovery after a drydock process died without cleaning up (kill -9, power loss): its runc
 * containers may still run and its overlay mounts still hold directories in the store's tmp/.
 * Both carry the dead process's pid in their names (`drydock-<pid>-…`, `<kind>-<pid>-…`), so a
 * later run can find and remove exactly those, never another live build's.
 */
import { readdir, readFile } from 'node:fs/promises';
import { RUNC_ROOT } from './runc.js';
import { tool } from './host.js';
import { unmount } from './overlay.js';

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const deadPid = (name: string, pattern: RegExp): boolean => {
  const m = pattern.exec(name);
  return m !== null && !alive(Number(m[1]));
};

/**
 * Force-deletes runc containers of dead drydock processes; returns their ids. runc keeps one state
 * directory per container, named by its id, under its root: reading that costs no process, so a
 * build with nothing to reap (nearly every build) starts none.
 */
export async function reapContainers(): Promise<string[]> {
  let ids: string[];
  try {
    ids = await readdir(RUNC_ROOT);
  } catch {
    return []; // no state dir yet: nothing to reap
  }
  const dead = ids.filter((id) => deadPid(id, /^drydock-(\d+)-/));
  for (const id of dead) await tool('runc', ['--root', RUNC_ROOT, 'delete', '--force', id]).catch(() => {});
  return dead;
}

/** Unmounts mounts below `dir` whose path names a dead process (`<kind>-<pid>-…`), deepest first. */
export async function unmountStale(dir: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const stale = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && p.startsWith(prefix))
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => deadPid(p.slice(prefix.length).split('/')[0]!, /^[a-z-]+?-(\d+)-/))
    .sort((a, b) => b.length - a.length);
  for (const p of stale) await unmount(p).catch(() => {});
  return stale;
}

/** Whether a tmp entry name (`<kind>-<pid>-…`) belongs to a process that is gone. */
export const ownerIsDead = (name: string): boolean => deadPid(name, /^[a-z-]+?-(\d+)-/);
