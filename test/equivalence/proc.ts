/**
 * Programs the equivalence tests run: like test/e2e/helpers.ts's `exec`, `docker` and `drydock`,
 * but with stdin closed from the start. Writing even an empty stdin to a program that has already
 * exited (a fast `docker rm`) raises EPIPE as an uncaught exception in the e2e helper.
 */
import { spawn } from 'node:child_process';
import { CLI, DOCKER, ROOT, type Result } from '../e2e/helpers.js';

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a program to completion; never throws for a non-zero exit (see e2e's `ok`). */
export function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n[killed by ${signal}]` : ''),
      });
    });
  });
}

/** The engine's own docker client, with BuildKit. */
export function docker(args: readonly string[], options: ExecOptions = {}): Promise<Result> {
  return exec(DOCKER, args, { ...options, env: { DOCKER_BUILDKIT: '1', ...options.env } });
}

/** The built CLI, as a user runs it. */
export function drydock(args: readonly string[], options: ExecOptions = {}): Promise<Result> {
  return exec(process.execPath, [CLI, '--no-color', ...args], options);
}
