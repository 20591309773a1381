/**
 * Runs the built `drydock` executable the way users do (a child process, real fixture projects on
 * disk) and collects what it printed. Needs `npm run build` first; `npm test` does that.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
/** The executable as npm installs it: the launcher that runs bin/drydock.cjs. */
export const bin = join(root, 'cli/bin/drydock');
export const fixtures = join(root, 'test/cli/fixtures');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Env vars that would change what the CLI prints, removed unless a test sets them. */
const noise = ['NO_COLOR', 'FORCE_COLOR', 'DRYDOCK_TEST_TOKEN', 'DRYDOCK_TEST_NPMRC', 'DRYDOCK_TEST_UNSET_TOKEN'];

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of noise) delete env[name];
  return { ...env, ...extra };
}

export function drydock(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; entry?: string } = {},
): Promise<Run> {
  if (!existsSync(join(root, 'cli/dist/drydock.cjs'))) {
    throw new Error('cli/dist/drydock.cjs is missing: run `npm run build` before the CLI tests');
  }
  return new Promise((resolve, reject) => {
    // `entry`: a script to run with this node instead of the launcher.
    const [command, argv] = options.entry ? [process.execPath, [options.entry, ...args]] : [bin, args];
    const child = spawn(command, argv, {
      cwd: options.cwd ?? root,
      env: cleanEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh directory under test/.tmp (inside the repo, so configs there resolve `drydock`). */
export function tempDir(): string {
  const base = join(root, 'test/.tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, 'cli-'));
}

/** A copy of a fixture project that a test may change. */
export function copyFixture(name: string): string {
  const dir = join(tempDir(), name);
  cpSync(join(fixtures, name), dir, { recursive: true });
  return dir;
}

/** Lines of a diagnostics output that are diagnostics (`… error DD123: …`). */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /\berror DD\d{3}:/.test(l));
}
