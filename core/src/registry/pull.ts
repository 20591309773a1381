// Pull: manifests (with platform selection in indexes) and blobs, verified by sha256 and size while
// streaming, resumed with HTTP Range when a transfer breaks, tried on each mirror and then upstream.

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pullScope } from './auth.js';
import { isRegistryError, RegistryError } from './errors.js';
import {
  hostPlatform,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  parseManifest,
  selectPlatform,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from './manifest.js';
import { formatReference, manifestTarget, type ImageReference } from './reference.js';
import {
  backoffDelay,
  describeNetworkError,
  httpError,
  type Endpoint,
  type RetryOptions,
  type Transport,
} from './transport.js';

export interface PullContext {
  transport: Transport;
  retry: RetryOptions;
  /** Mirrors first, then the registry. */
  endpoints(ref: ImageReference): Endpoint[];
}

export interface ResolveOptions {
  /** Platform to pick from an index (default linux/<host arch>). */
  platform?: Platform;
}

export interface ResolvedImage {
  reference: ImageReference;
  /** Digest of the platform manifest. */
  digest: string;
  manifest: ImageManifest;
  manifestBytes: Buffer;
  mediaType: string;
  /** Digest of the index / manifest list the manifest was selected from, if any. */
  indexDigest?: string;
  /** Base URL it was read from (a mirror or the registry). */
  source: string;
}

const MAX_MANIFEST = 4 * 1024 * 1024;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function withMirrorFailures(error: unknown, failures: string[]): unknown {
  if (failures.length === 0 || !(error instanceof RegistryError)) return error;
  return new RegistryError(error.code, `${error.message} (after mirrors: ${failures.join('; ')})`, {
    cause: error,
    registry: error.registry,
    status: error.status,
  });
}

/** Run `fn` on each endpoint in turn; mirrors fall through to the next on any failure but EPLATFORM. */
async function firstEndpoint<T>(ctx: PullContext, ref: ImageReference, fn: (ep: Endpoint) => Promise<T>): Promise<T> {
  const endpoints = ctx.endpoints(ref);
  const mirrorFailures: string[] = [];
  for (const [i, ep] of endpoints.entries()) {
    try {
      return await fn(ep);
    } catch (error) {
      const last = i === endpoints.length - 1;
      if (last || !ep.mirror || isRegistryError(error, 'EPLATFORM')) throw withMirrorFailures(error, mirrorFailures);
      mirrorFailures.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new RegistryError('ENETWORK', `${formatReference(ref)}: no endpoint to try`);
}

async function fetchManifest(
  ctx: PullContext,
  ep: Endpoint,
  ref: ImageReference,
  target: string,
): Promise<{ bytes: Buffer; mediaType: string; manifest: ImageManifest | ImageIndex; digest: string }> {
  const where = `${ep.base}/${ref.repository}:${target}`;
  const res = await ctx.transport.request(ep, {
    method: 'GET',
    url: `/v2/${ref.repository}/manifests/${target}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes: [pullScope(ref.repository)],
    ...(ep.mirror ? { attempts: 1 } : {}),
  });
  if (!res.ok) throw await httpError(ep, res, `manifest ${ref.repository}:${target}`);
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > MAX_MANIFEST) {
    await res.body?.cancel().catch(() => {});
    throw new RegistryError('EMANIFEST', `${where}: manifest of ${length} bytes is too large`);
  }
  const bytes = Buffer.from(await res.arrayBuffer());
  const digest = sha256(bytes);
  const announced = res.headers.get('docker-content-digest');
  if (target.includes(':') && target.startsWith('sha256:') && target !== digest) {
    throw new RegistryError('EDIGEST', `${where}: manifest content hashes to ${digest}`, { registry: ep.base });
  }
  if (announced !== null && announced.startsWith('sha256:') && announced !== digest) {
    throw new RegistryError('EDIGEST', `${where}: manifest hashes to ${digest} but the registry says ${announced}`, {
      registry: ep.base,
    });
  }
  const parsed = parseManifest(bytes, res.headers.get('content-type'), where);
  return { bytes, digest, ...parsed };
}

export async function resolve(
  ctx: PullContext,
  ref: ImageReference,
  options: ResolveOptions = {},
): Promise<ResolvedImage> {
  return firstEndpoint(ctx, ref, async (ep) => {
    const top = await fetchManifest(ctx, ep, ref, manifestTarget(ref));
    if (!isIndexMediaType(top.mediaType)) {
      return {
        reference: ref,
        digest: top.digest,
        manifest: top.manifest as ImageManifest,
        manifestBytes: top.bytes,
        mediaType: top.mediaType,
        source: ep.base,
      };
    }
    const platform = options.platform ?? hostPlatform();
    const desc = selectPlatform(top.manifest as ImageIndex, platform, formatReference(ref));
    const child = await fetchManifest(ctx, ep, ref, desc.digest);
    if (child.bytes.length !== desc.size) {
      throw new RegistryError(
        'ESIZE',
        `${ep.base}/${ref.repository}@${desc.digest}: ${child.bytes.length} bytes, index says ${desc.size}`,
      );
    }
    if (isIndexMediaType(child.mediaType)) {
      throw new RegistryError(
        'EMANIFEST',
        `${ep.base}/${ref.repository}@${desc.digest}: nested index is not supported`,
      );
    }
    return {
      reference: ref,
      digest: child.digest,
      manifest: child.manifest as ImageManifest,
      manifestBytes: child.bytes,
      mediaType: child.mediaType,
      indexDigest: top.digest,
      source: ep.base,
    };
  });
}

function checkDescriptor(desc: Pick<Descriptor, 'digest' | 'size'>): void {
  if (!SHA256.test(desc.digest)) {
    throw new RegistryError(
      'EDIGEST',
      `blob digest ${JSON.stringify(desc.digest)} is not a sha256 digest drydock can verify`,
    );
  }
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new RegistryError('ESIZE', `blob ${desc.digest}: invalid size ${String(desc.size)}`);
  }
}

/**
 * The blob's bytes, verified: sha256 and size are checked while streaming (the generator throws
 * `EDIGEST`/`ESIZE` at the end or as soon as too many bytes arrive). A transfer that breaks midway
 * is resumed with `Range: bytes=<received>-` (a 200 answer is skipped up to that point), with
 * backoff; mirrors that fail fall through to the next endpoint.
 */
export async function* blobChunks(
  ctx: PullContext,
  ref: ImageReference,
  desc: Pick<Descriptor, 'digest' | 'size'>,
): AsyncGenerator<Buffer, void, undefined> {
  checkDescriptor(desc);
  const endpoints = ctx.endpoints(ref);
  const attempts = Math.max(1, ctx.retry.attempts ?? 4);
  const hash = createHash('sha256');
  let offset = 0;
  let epIndex = 0;
  let failures = 0;
  const where = () => `${endpoints[epIndex]!.base}/${ref.repository}@${desc.digest}`;
  const mirrorFailures: string[] = [];
  const nextEndpoint = (error: unknown): void => {
    if (epIndex + 1 >= endpoints.length) throw withMirrorFailures(error, mirrorFailures);
    mirrorFailures.push(error instanceof Error ? error.message : String(error));
    epIndex++;
    failures = 0;
  };
  for (;;) {
    const ep = endpoints[epIndex]!;
    let res: Response;
    try {
      res = await ctx.transport.request(ep, {
        method: 'GET',
        url: `/v2/${ref.repository}/blobs/${desc.digest}`,
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        scopes: [pullScope(ref.repository)],
        ...(ep.mirror ? { attempts: 1 } : {}),
      });
    } catch (error) {
      nextEndpoint(error);
      continue;
    }
    if (!(res.status === 200 || (res.status === 206 && offset > 0))) {
      const error = await httpError(ep, res, `blob ${ref.repository}@${desc.digest}`);
      nextEndpoint(error);
      continue;
    }
    // A 200 to a Range request means the server ignored Range: drop what we already have.
    let skip = res.status === 200 ? offset : 0;
    let broke: unknown;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (skip > 0) {
          const drop = Math.min(skip, buf.length);
          skip -= drop;
          buf = buf.subarray(drop);
          if (buf.length === 0) continue;
        }
        if (offset + buf.length > desc.size) {
          throw new RegistryError('ESIZE', `${where()}: more than the expected ${desc.size} bytes`, {
            registry: ep.base,
          });
        }
        hash.update(buf);
        offset += buf.length;
        failures = 0;
        yield buf;
      }
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      broke = error;
    }
    if (broke === undefined && offset === desc.size) break;
    if (broke === undefined && res.status === 206 && offset < desc.size) broke = new Error('response ended early');
    if (broke === undefined) {
      throw new RegistryError('ESIZE', `${where()}: got ${offset} bytes, expected ${desc.size}`, { registry: ep.base });
    }
    failures++;
    if (failures >= attempts) {
      const error = new RegistryError(
        'ENETWORK',
        `${where()}: transfer broke ${failures} time(s) at byte ${offset} of ${desc.size}: ${describeNetworkError(broke)}`,
        { cause: broke, registry: ep.base },
      );
      nextEndpoint(error);
      continue;
    }
    await sleep(backoffDelay(failures - 1, ctx.retry));
  }
  const digest = `sha256:${hash.digest('hex')}`;
  if (digest !== desc.digest) {
    throw new RegistryError('EDIGEST', `${where()}: content hashes to ${digest}`, {
      registry: endpoints[epIndex]!.base,
    });
  }
}

export function fetchBlob(ctx: PullContext, ref: ImageReference, desc: Pick<Descriptor, 'digest' | 'size'>): Readable {
  return Readable.from(blobChunks(ctx, ref, desc), { objectMode: false });
}

export async function fetchBlobToFile(
  ctx: PullContext,
  ref: ImageReference,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  path: string,
): Promise<{ digest: string; size: number; path: string }> {
  checkDescriptor(desc);
  const tmp = `${path}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await pipeline(
      Readable.from(blobChunks(ctx, ref, desc), { objectMode: false }),
      createWriteStream(tmp, { flags: 'wx' }),
    );
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  return { digest: desc.digest, size: desc.size, path };
}

export async function fetchBlobBytes(
  ctx: PullContext,
  ref: ImageReference,
  desc: Pick<Descriptor, 'digest' | 'size'>,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of blobChunks(ctx, ref, desc)) parts.push(chunk);
  return Buffer.concat(parts);
}
