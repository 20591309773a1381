// Push: blobs (HEAD check, cross-repo mount, monolithic or chunked upload) and manifests.

import type { Readable } from 'node:stream';
import { pullScope, pushScope } from './auth.js';
import { RegistryError } from './errors.js';
import type { Descriptor } from './manifest.js';
import { sha256 } from './pull.js';
import type { ImageReference } from './reference.js';
import {
  backoffDelay,
  httpError,
  retryableStatus,
  type Endpoint,
  type RetryOptions,
  type Transport,
} from './transport.js';

export interface PushContext {
  transport: Transport;
  retry: RetryOptions;
  endpoint(ref: ImageReference): Endpoint;
  /** Blobs larger than this go up in PATCH chunks of this size; smaller in one PUT. */
  chunkSize: number;
}

export interface PushBlobOptions {
  /** Another repository on the same registry that has the blob: try a cross-repo mount first. */
  mountFrom?: string;
}

export interface PushBlobResult {
  digest: string;
  size: number;
  /** `exists`: the registry had it (HEAD); `mounted`: cross-repo mount (201); `uploaded`: bytes were sent. */
  outcome: 'exists' | 'mounted' | 'uploaded';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function location(ctx: PushContext, ep: Endpoint, res: Response, what: string): string {
  const loc = res.headers.get('location');
  if (!loc)
    throw new RegistryError('EHTTP', `${ep.base}: ${what}: no Location in the ${res.status} answer`, {
      registry: ep.base,
    });
  return ctx.transport.resolveUrl(ep, loc);
}

const withQuery = (url: string, key: string, value: string): string => {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
};

/** Read `stream` in pieces of exactly `size` bytes (the last may be shorter). */
async function* pieces(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    while (buf.length > 0) {
      const take = Math.min(size - have, buf.length);
      parts.push(buf.subarray(0, take));
      have += take;
      buf = buf.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts);
        parts = [];
        have = 0;
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

async function upload(
  ctx: PushContext,
  ep: Endpoint,
  ref: ImageReference,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  open: () => Readable,
  startUrl: string,
  scopes: string[],
): Promise<void> {
  const what = `upload of ${ref.repository}@${desc.digest}`;
  let url = startUrl;
  if (desc.size > ctx.chunkSize) {
    let offset = 0;
    for await (const piece of pieces(open(), ctx.chunkSize)) {
      const res = await ctx.transport.request(ep, {
        method: 'PATCH',
        url,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + piece.length - 1}`,
        },
        body: () => piece,
        scopes,
        attempts: 1,
      });
      if (res.status !== 202) throw await httpError(ep, res, `${what} (chunk at ${offset})`);
      await res.body?.cancel().catch(() => {});
      url = location(ctx, ep, res, what);
      offset += piece.length;
    }
    const res = await ctx.transport.request(ep, {
      method: 'PUT',
      url: withQuery(url, 'digest', desc.digest),
      headers: { 'content-length': '0' },
      scopes,
      attempts: 1,
    });
    if (res.status !== 201) throw await httpError(ep, res, what);
    await res.body?.cancel().catch(() => {});
    return;
  }
  const res = await ctx.transport.request(ep, {
    method: 'PUT',
    url: withQuery(url, 'digest', desc.digest),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(desc.size) },
    body: open,
    scopes,
    attempts: 1,
  });
  if (res.status !== 201) throw await httpError(ep, res, what);
  await res.body?.cancel().catch(() => {});
}

/**
 * Make `desc` exist in `ref`'s repository: HEAD first (skip), then a cross-repo mount when
 * `mountFrom` is given (201 = mounted; 202 = the registry opened an upload instead), else an
 * upload (POST, then one PUT ?digest=, or PATCH chunks + PUT for blobs over `chunkSize`). The
 * registry verifies the digest; a failed upload is retried from scratch with backoff, re-opening
 * the stream.
 */
export async function pushBlob(
  ctx: PushContext,
  ref: ImageReference,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  open: () => Readable,
  options: PushBlobOptions = {},
): Promise<PushBlobResult> {
  const ep = ctx.endpoint(ref);
  const repo = ref.repository;
  const mountFrom = options.mountFrom !== undefined && options.mountFrom !== repo ? options.mountFrom : undefined;
  const scopes = mountFrom ? [pushScope(repo), pullScope(mountFrom)] : [pushScope(repo)];
  const base = { digest: desc.digest, size: desc.size };

  const head = await ctx.transport.request(ep, { method: 'HEAD', url: `/v2/${repo}/blobs/${desc.digest}`, scopes });
  await head.body?.cancel().catch(() => {});
  if (head.ok) return { ...base, outcome: 'exists' };
  if (head.status !== 404) throw await httpError(ep, head, `blob ${repo}@${desc.digest}`);

  const attempts = Math.max(1, ctx.retry.attempts ?? 4);
  let mountTried = false;
  for (let attempt = 1; ; attempt++) {
    try {
      let start: string | undefined;
      if (mountFrom && !mountTried) {
        mountTried = true;
        const q = new URLSearchParams({ mount: desc.digest, from: mountFrom });
        const res = await ctx.transport.request(ep, { method: 'POST', url: `/v2/${repo}/blobs/uploads/?${q}`, scopes });
        await res.body?.cancel().catch(() => {});
        if (res.status === 201) return { ...base, outcome: 'mounted' };
        if (res.status !== 202) throw await httpError(ep, res, `mount of ${desc.digest} from ${mountFrom}`);
        start = location(ctx, ep, res, `mount of ${desc.digest}`);
      }
      if (start === undefined) {
        const res = await ctx.transport.request(ep, { method: 'POST', url: `/v2/${repo}/blobs/uploads/`, scopes });
        await res.body?.cancel().catch(() => {});
        if (res.status !== 202) throw await httpError(ep, res, `starting upload to ${repo}`);
        start = location(ctx, ep, res, `starting upload to ${repo}`);
      }
      await upload(ctx, ep, ref, desc, open, start, scopes);
      return { ...base, outcome: 'uploaded' };
    } catch (error) {
      const retryable =
        error instanceof RegistryError
          ? error.code === 'ENETWORK' || (error.status !== undefined && retryableStatus(error.status))
          : true;
      if (!retryable || attempt >= attempts) {
        if (error instanceof RegistryError) throw error;
        throw new RegistryError('ENETWORK', `${ep.base}: upload of ${repo}@${desc.digest} failed: ${String(error)}`, {
          cause: error,
          registry: ep.base,
        });
      }
      await sleep(backoffDelay(attempt - 1, ctx.retry));
    }
  }
}

/** PUT a manifest under the reference's tag (or digest); returns its sha256 digest. */
export async function pushManifest(
  ctx: PushContext,
  ref: ImageReference,
  bytes: Buffer,
  mediaType: string,
): Promise<string> {
  const ep = ctx.endpoint(ref);
  const digest = sha256(bytes);
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new RegistryError(
      'EDIGEST',
      `${ref.registry}/${ref.repository}: manifest hashes to ${digest}, not ${ref.digest}`,
    );
  }
  const target = ref.tag ?? digest;
  const res = await ctx.transport.request(ep, {
    method: 'PUT',
    url: `/v2/${ref.repository}/manifests/${target}`,
    headers: { 'content-type': mediaType },
    body: () => bytes,
    scopes: [pushScope(ref.repository)],
  });
  if (res.status !== 201 && res.status !== 200) throw await httpError(ep, res, `manifest ${ref.repository}:${target}`);
  await res.body?.cancel().catch(() => {});
  const announced = res.headers.get('docker-content-digest');
  if (announced !== null && announced !== digest) {
    throw new RegistryError(
      'EDIGEST',
      `${ep.base}: registry stored the manifest as ${announced}, drydock computed ${digest}`,
      {
        registry: ep.base,
      },
    );
  }
  return digest;
}
