/**
 * Helpers for the end-to-end tests: run the built CLI and the engine's own docker client, find free
 * ports, wait for HTTP servers, and scan files for a value without reading them whole.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { rootCertificates } from 'node:tls';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The executable as npm installs it: the launcher that runs bin/drydock.cjs. */
export const CLI = fileURLToPath(new URL('../../cli/bin/drydock', import.meta.url));
/** The engine's own client (20.10, BuildKit built in); /usr/local/bin/docker is a newer client only. */
export const DOCKER = '/usr/bin/docker';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

/** Runs a program to completion; never throws for a non-zero exit (see `ok`). */
export function exec(file: string, args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      // No stdin pipe unless there is input: writing to a program that already exited raises EPIPE.
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
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
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the exit code reports a failure
      child.stdin.end(options.input);
    }
  });
}

/** The result, or an error showing the command and the tail of its output. */
export function ok(what: string, r: Result): Result {
  if (r.code === 0) return r;
  const tail = (s: string) => s.trimEnd().split('\n').slice(-40).join('\n');
  throw new Error(`${what} exited ${r.code}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
}

export function docker(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return exec(DOCKER, args, { ...options, env: { DOCKER_BUILDKIT: '1', ...options.env } });
}

/** The built CLI (`npm run build` first), as a user would run it. */
export function drydock(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return exec(CLI, ['--no-color', ...args], options);
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePromise(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface HttpReply {
  status: number;
  body: string;
}

/** GETs a URL, retrying while the server is not up yet. */
export async function httpGet(url: string, timeoutMs = 20_000): Promise<HttpReply> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return { status: res.status, body: await res.text() };
    } catch (e) {
      last = e;
      await sleep(200);
    }
  }
  throw new Error(`GET ${url}: no answer within ${timeoutMs} ms (${String(last)})`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `check` returns a value other than undefined. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Whether a file contains `needle`, read in chunks (image tarballs are too big to read whole). */
export async function fileContains(path: string, needle: string): Promise<boolean> {
  const target = Buffer.from(needle);
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const window = Buffer.concat([carry, chunk]);
    if (window.includes(target)) return true;
    carry = window.subarray(Math.max(0, window.length - (target.length - 1)));
  }
  return false;
}

/**
 * An .npmrc that is safe to hand to a build as its `npmrc` secret: a token for a scope nothing
 * uses, on a host that does not exist (the sentinel the tests look for in built images), and, when
 * this machine trusts CAs that Node does not ship (a TLS-intercepting proxy between builds and
 * registry.npmjs.org), those CAs, since npm in the node image would otherwise reject the registry's
 * certificate. Registry settings are what the secret is for. Only the extra CAs: npm exports its
 * config to install scripts as environment variables, and a whole CA bundle would not fit (E2BIG).
 */
export async function npmrcWithSentinel(sentinel: string): Promise<string> {
  const lines = [
    '# drydock e2e: harmless; the token below is a sentinel the tests look for in built images',
    '@drydock-sentinel:registry=https://npm.invalid/',
    `//npm.invalid/:_authToken=${sentinel}`,
  ];
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  if (extraCa && existsSync(extraCa)) {
    const norm = (pem: string) => pem.replace(/\s+/g, '');
    const known = new Set(rootCertificates.map(norm));
    const pems = (await readFile(extraCa, 'utf8')).match(
      /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
    );
    for (const pem of pems ?? []) if (!known.has(norm(pem))) lines.push(`ca[]="${pem.replace(/\r?\n/g, '\\n')}"`);
  }
  return lines.join('\n') + '\n';
}

/** Images, containers and directories a test file makes, all removed by `cleanup()` (in `afterAll`). */
export class Resources {
  readonly runId = `${Date.now().toString(36)}-${process.pid}`;
  private readonly images = new Set<string>();
  private readonly containers = new Set<string>();
  private readonly dirs = new Set<string>();

  /** A tag no other run uses: `drydock-e2e/<name>:<run id>`. */
  tag(name: string): string {
    const tag = `drydock-e2e/${name}:${this.runId}`;
    this.images.add(tag);
    return tag;
  }

  container(id: string): string {
    this.containers.add(id);
    return id;
  }

  dir(path: string): string {
    this.dirs.add(path);
    return path;
  }

  async cleanup(): Promise<void> {
    if (this.containers.size > 0) await docker(['rm', '-f', '-v', ...this.containers]);
    // One by one: a tag that was never built (a build expected to fail) must not stop the others.
    const removals = await Promise.all(
      [...this.images].map(async (tag) => ({ tag, r: await docker(['rmi', '-f', tag]) })),
    );
    for (const { tag, r } of removals) {
      if (r.code !== 0 && !/No such image/.test(r.stderr)) console.warn(`could not remove ${tag}: ${r.stderr.trim()}`);
    }
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true });
  }
}

/** Fails fast, with what to do, when the bench or the build is missing. */
export async function requireBench(): Promise<void> {
  const info = await docker(['info', '--format', '{{.ServerVersion}}']);
  if (info.code !== 0) {
    throw new Error(`no Docker engine answers ${DOCKER}: run "sudo bash test/env/setup.sh" first\n${info.stderr}`);
  }
  if (!existsSync(CLI.replace(/bin\/drydock$/, 'dist/drydock.cjs'))) {
    throw new Error('the CLI is not built: run "npm run build" first');
  }
}
