// HTTP for the registry API: endpoint selection (https, http for loopback and insecure registries,
// registry-1.docker.io for Docker Hub), retries with exponential backoff on network errors, 5xx and
// 429, and authentication (delegated to auth.ts) on 401.

import type { Readable } from 'node:stream';
import type { AuthManager } from './auth.js';
import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

/** One place an image can be read from: a mirror or the registry itself. */
export interface Endpoint {
  /** Registry named by the reference (`docker.io`, `127.0.0.1:5001`). */
  registry: string;
  /** Base URL of the API (`https://registry-1.docker.io`, `http://127.0.0.1:5000`). */
  base: string;
  /** Host whose credentials apply (the mirror's own host for a mirror). */
  credentialHost: string;
  mirror: boolean;
}

export interface RetryOptions {
  /** Tries per request, including the first (default 4). */
  attempts?: number;
  /** First backoff delay in ms, doubled each retry, with jitter (default 250). */
  baseDelayMs?: number;
  /** Cap on a single delay (default 8000). */
  maxDelayMs?: number;
}

/** Observes every HTTP exchange (method, URL without query secrets, status or error). Never sees headers. */
export type RequestObserver = (event: {
  method: string;
  url: string;
  status?: number;
  error?: string;
  range?: string;
}) => void;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/** Host part of `host[:port]` (IPv6 literals keep no brackets). */
export function hostname(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  return registry.split(':')[0]!;
}

export const isLoopback = (registry: string): boolean => LOOPBACK.has(hostname(registry));

/** The API host of a registry: Docker Hub's API lives at registry-1.docker.io. */
export const apiHost = (registry: string): string => (registry === DOCKER_HUB ? 'registry-1.docker.io' : registry);

export function registryEndpoint(registry: string, insecure: ReadonlySet<string>): Endpoint {
  const host = apiHost(registry);
  const scheme = isLoopback(registry) || insecure.has(registry) || insecure.has(host) ? 'http' : 'https';
  return { registry, base: `${scheme}://${host}`, credentialHost: registry, mirror: false };
}

export function mirrorEndpoint(registry: string, url: string): Endpoint {
  return { registry, base: url, credentialHost: new URL(url).host, mirror: true };
}

export interface RequestSpec {
  method: string;
  /** Absolute URL, or a path under the endpoint's base starting with `/v2/`. */
  url: string;
  headers?: Record<string, string>;
  /** Called once per attempt, so a failed attempt can be retried with a fresh body. */
  body?: () => Buffer | Readable | undefined;
  /** Token scopes this request needs (`repository:library/busybox:pull`). */
  scopes: string[];
  /** Override the client's attempt count (1 = no retry). */
  attempts?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function backoffDelay(attempt: number, retry: RetryOptions): number {
  const base = retry.baseDelayMs ?? 250;
  const max = retry.maxDelayMs ?? 8000;
  const d = Math.min(max, base * 2 ** attempt);
  return d / 2 + Math.random() * (d / 2);
}

export function describeNetworkError(error: unknown): string {
  let e: unknown = error;
  const parts: string[] = [];
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' && !e.message.includes(code) ? `${e.message} (${code})` : e.message);
    e = e.cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(error);
}

export const retryableStatus = (status: number): boolean => status === 429 || status >= 500;

function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (v === null) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.min(s * 1000, 30_000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.min(t - Date.now(), 30_000));
}

export class Transport {
  constructor(
    readonly auth: AuthManager,
    readonly retry: RetryOptions,
    readonly observe: RequestObserver | undefined,
  ) {}

  resolveUrl(endpoint: Endpoint, url: string): string {
    return new URL(url, endpoint.base).toString();
  }

  /**
   * Send a request, authenticating on 401 and retrying network errors, 5xx and 429 with backoff.
   * Returns the final response whatever its status (after retries); throws `ENETWORK` when no
   * response came, and auth errors when credentials are missing or rejected.
   */
  async request(endpoint: Endpoint, spec: RequestSpec): Promise<Response> {
    const url = spec.url.startsWith('/') ? `${endpoint.base}${spec.url}` : spec.url;
    const attempts = Math.max(1, spec.attempts ?? this.retry.attempts ?? 4);
    let authenticated = false;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts;) {
      const headers: Record<string, string> = { ...spec.headers };
      const authorization = this.auth.cachedHeader(endpoint, spec.scopes);
      if (authorization !== undefined) headers.authorization = authorization;
      const body = spec.body?.();
      let res: Response;
      try {
        res = await fetch(url, {
          method: spec.method,
          headers,
          body: body as unknown as RequestInit['body'],
          redirect: 'follow',
          ...(body !== undefined ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (error) {
        lastError = error;
        this.observe?.({
          method: spec.method,
          url: redact(url),
          error: describeNetworkError(error),
          ...rangeOf(headers),
        });
        attempt++;
        if (attempt < attempts) await sleep(backoffDelay(attempt - 1, this.retry));
        continue;
      }
      this.observe?.({ method: spec.method, url: redact(url), status: res.status, ...rangeOf(headers) });
      if (res.status === 401) {
        const challenge = res.headers.get('www-authenticate');
        await res.body?.cancel().catch(() => {});
        if (!authenticated && (await this.auth.answerChallenge(endpoint, challenge, spec.scopes, authorization))) {
          authenticated = true;
          continue;
        }
        throw await this.auth.rejection(endpoint, authorization);
      }
      if (retryableStatus(res.status) && attempt + 1 < attempts) {
        await res.body?.cancel().catch(() => {});
        attempt++;
        await sleep(retryAfterMs(res) ?? backoffDelay(attempt - 1, this.retry));
        continue;
      }
      return res;
    }
    throw new RegistryError(
      'ENETWORK',
      `${endpoint.base}: ${spec.method} failed after ${attempts} attempt(s): ${describeNetworkError(lastError)}`,
      { cause: lastError, registry: endpoint.base },
    );
  }
}

const rangeOf = (headers: Record<string, string>) => (headers.range !== undefined ? { range: headers.range } : {});

/** Drop query strings (upload session state, signed-URL tokens) from what observers and errors see. */
export const redact = (url: string): string => url.replace(/\?.*$/, '');

/** Turn an unexpected response into a one-line error, reading the registry's error JSON if any. */
export async function httpError(endpoint: Endpoint, res: Response, what: string): Promise<RegistryError> {
  let detail = '';
  try {
    const text = await res.text();
    const json = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = json.errors?.[0];
    if (first) detail = `: ${[first.code, first.message].filter(Boolean).join(' ')}`;
  } catch {
    // not JSON: no detail
  }
  const code = res.status === 404 ? 'ENOTFOUND' : res.status === 403 ? 'EDENIED' : 'EHTTP';
  return new RegistryError(code, `${endpoint.base}: ${what}: HTTP ${res.status}${detail}`, {
    registry: endpoint.base,
    status: res.status,
  });
}
