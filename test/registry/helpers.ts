// Shared pieces for the registry tests: temp dirs, a docker config, and a real HTTP proxy in front
// of a bench registry that can misbehave on purpose (cut a blob transfer, serve another blob's bytes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPEN = '127.0.0.1:5000';
export const AUTH = '127.0.0.1:5001';
export const USER = 'drydock';
export const PASSWORD = 'drydock-test-pw';
/** Unique per run so parallel / repeated runs never share repositories. */
export const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;

const dirs: string[] = [];
export function tempDir(prefix = 'drydock-registry-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
export function cleanupTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A DOCKER_CONFIG dir whose config.json is `config`. */
export function dockerConfigDir(config: unknown): string {
  const dir = tempDir('drydock-docker-config-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

export const basicAuth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

export function sha256sum(path: string): string {
  const r = spawnSync('sha256sum', [path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sha256sum ${path}: ${r.stderr}`);
  return `sha256:${r.stdout.split(/\s+/)[0]}`;
}

export interface ProxyOptions {
  /** Cut the connection of the first full (non-Range) blob GET after this fraction of its body. */
  cutFirstBlobAt?: number;
  /** Serve the bytes of blob `to` when blob `from` is asked for. */
  swap?: { from: string; to: string };
  /** Answer the first `count` requests with `status` (and `headers`) instead of forwarding them. */
  failFirst?: { count: number; status: number; headers?: Record<string, string> };
}

export interface Proxy {
  host: string;
  /** Every request seen: method, path, Range header. */
  requests: { method: string; path: string; range: string | undefined }[];
  cuts: number;
  close(): Promise<void>;
}

/** A plain HTTP proxy on 127.0.0.1:<random> in front of `target` (host:port). */
export async function startProxy(target: string, options: ProxyOptions = {}): Promise<Proxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  const state: Proxy = { host: '', requests: [], cuts: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    let path = req.url ?? '/';
    state.requests.push({ method: req.method ?? 'GET', path, range: req.headers.range });
    if (options.failFirst && state.requests.length <= options.failFirst.count) {
      req.resume();
      res.writeHead(options.failFirst.status, options.failFirst.headers ?? {}).end();
      return;
    }
    if (options.swap && path.endsWith(`/blobs/${options.swap.from}`)) {
      path = path.replace(options.swap.from, options.swap.to);
    }
    const cut =
      options.cutFirstBlobAt !== undefined &&
      state.cuts === 0 &&
      req.method === 'GET' &&
      path.includes('/blobs/sha256:') &&
      req.headers.range === undefined;
    const upstream = request(
      {
        host: targetHost,
        port: Number(targetPort),
        method: req.method,
        path,
        headers: { ...req.headers, host: target },
      },
      (up: IncomingMessage) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!cut || up.statusCode !== 200) {
          up.pipe(res);
          return;
        }
        state.cuts++;
        const limit = Math.floor(Number(up.headers['content-length']) * (options.cutFirstBlobAt ?? 0.5));
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent >= limit) return;
          const piece = chunk.subarray(0, limit - sent);
          sent += piece.length;
          res.write(piece);
          if (sent >= limit) {
            // Let the bytes leave, then break the connection mid-body.
            res.socket?.end(() => res.socket?.destroy());
            up.destroy();
          }
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}
