/**
 * Runs `drydock build --watch --progress json` on a private copy of a fixture project and reads
 * its events as they come. Tests wait for events (never for time), and prove that something did
 * NOT trigger a build by making a real change afterwards and checking which cycle it got.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLI, ROOT } from '../e2e/helpers.js';
import { MIRROR_ENV } from '../build/helpers.js';

export type Event = Record<string, unknown> & { event: string };

export interface Watching {
  /** The project copy. */
  dir: string;
  readonly events: Event[];
  /** Resolves with the first event (at or after index `from`) that `match` accepts. */
  next(match: (e: Event) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<Event>;
  /** Stops with SIGINT; resolves with the exit code and stderr. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

export interface Project {
  dir: string;
  home: string;
  watch(args: readonly string[]): Promise<Watching>;
  remove(): Promise<void>;
}

export async function project(fixture: string): Promise<Project> {
  const root = await mkdtemp(join(tmpdir(), 'drydock-watch-'));
  const dir = join(root, 'project');
  const home = join(root, 'home');
  await cp(fixture, dir, { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const children: ChildProcess[] = [];
  return {
    dir,
    home,
    async watch(args) {
      const child = spawn(CLI, ['build', '--watch', '--progress', 'json', ...args], {
        cwd: dir,
        env: { ...process.env, ...MIRROR_ENV, DRYDOCK_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const events: Event[] = [];
      const waiters = new Set<() => void>();
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        events.push(JSON.parse(line) as Event);
        for (const wake of waiters) wake();
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const next: Watching['next'] = (match, options = {}) =>
        new Promise((resolve, reject) => {
          const from = options.from ?? 0;
          const check = (): boolean => {
            const found = events.slice(from).find(match);
            if (found) {
              waiters.delete(wake);
              clearTimeout(timer);
              resolve(found);
            }
            return found !== undefined;
          };
          const wake = (): void => void check();
          const timer = setTimeout(() => {
            waiters.delete(wake);
            reject(
              new Error(
                `no such event within ${options.timeoutMs ?? 60_000} ms; events:\n${summary(events)}\nstderr:\n${stderr}`,
              ),
            );
          }, options.timeoutMs ?? 60_000);
          if (!check()) waiters.add(wake);
          void exited.then(() => {
            if (waiters.has(wake)) {
              waiters.delete(wake);
              clearTimeout(timer);
              reject(new Error(`drydock exited; events:\n${summary(events)}\nstderr:\n${stderr}`));
            }
          });
        });
      return {
        dir,
        events,
        next,
        async stop() {
          child.kill('SIGINT');
          return { code: await exited, stderr };
        },
      };
    },
    async remove() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
    },
  };
}

function summary(events: readonly Event[]): string {
  return events
    .filter((e) => e.event !== 'step' && e.event !== 'output' && e.event !== 'pull')
    .map((e) => JSON.stringify(e))
    .join('\n');
}

export const isFinished =
  (image: string, cycle?: number) =>
  (e: Event): boolean =>
    e.event === 'build-finished' && e.image === image && (cycle === undefined || e.cycle === cycle);
