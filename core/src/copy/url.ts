import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { copySelection } from './apply.js';
import type { Owner } from './chown.js';
import { CopyError } from './errors.js';

export interface AddUrlOptions {
  rootfs: string;
  url: string;
  /** As for applyCopy: absolute, trailing slash preserved as written. */
  dest: string;
  /** `sha256:<hex>`: the download must have this digest. */
  checksum?: string;
  owner?: Owner;
  /** Applied to the downloaded file (docker 20.10's frontend ignores it for URLs; newer ones apply it). */
  chmod?: number;
  signal?: AbortSignal;
  /** The URL already downloaded (downloadUrl) and hashed for the cache key: used as is, not fetched again. */
  downloaded?: string;
}

/**
 * The file name BuildKit's frontend gives a URL's download: the last segment of the URL's decoded
 * path, `__unnamed__` when there is none.
 */
export function urlFileName(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return '__unnamed__';
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    // Go's url.Parse would reject it; keep the raw path.
  }
  const base = path.replace(/\/+$/, '').split('/').pop() ?? '';
  return base === '' || base === '.' ? '__unnamed__' : base;
}

/**
 * ADD <url>: downloads with fetch, checks `checksum`, and copies the file as BuildKit does: mode
 * 0600, owner 0:0 unless `owner`, named after the URL when `dest` ends in `/` or is an existing
 * directory, never extracted.
 */
export async function applyAddUrl(o: AddUrlOptions): Promise<void> {
  const expected = o.checksum === undefined ? undefined : parseChecksum(o.checksum);
  const name = urlFileName(o.url);
  const tmp = await mkdtemp(join(tmpdir(), 'drydock-add-'));
  try {
    let downloaded = o.downloaded;
    if (downloaded === undefined) {
      const got = await downloadUrl(o.url, tmp, o.signal);
      if (expected !== undefined && got.digest !== `sha256:${expected}`) {
        throw new CopyError(
          'checksum-mismatch',
          `ADD ${o.url}: checksum mismatch: expected sha256:${expected}, got ${got.digest}`,
          o.url,
        );
      }
      downloaded = got.file;
    }
    const dirDest = o.dest.endsWith('/') || o.dest.endsWith('/.');
    // Copied from where it was downloaded, under its own name.
    const file = { src: basename(downloaded), name, type: 'file' as const, mode: 0o600, size: 0 };
    await copySelection({
      rootfs: o.rootfs,
      sourceRoot: dirname(downloaded),
      dest: o.dest,
      selection: dirDest
        ? [
            { src: '', dest: '', name, type: 'dir', mode: 0o755, size: 0 },
            { ...file, dest: name },
          ]
        : [{ ...file, dest: '' }],
      ...(o.owner ? { owner: o.owner } : {}),
      ...(o.chmod !== undefined ? { chmod: o.chmod } : {}),
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Fetches a URL into `dir` (mode 0600), hashing it on the way: what ADD <url> reads, and its digest. */
export async function downloadUrl(
  url: string,
  dir: string,
  signal?: AbortSignal,
): Promise<{ file: string; digest: string }> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
  } catch (e) {
    if (signal?.aborted) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CopyError('http-error', `ADD ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, url, {
      cause: e,
    });
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new CopyError('http-error', `ADD ${url}: HTTP ${res.status} ${res.statusText}`.trimEnd(), url);
  }
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const file = join(dir, 'download');
  try {
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
      tee,
      createWriteStream(file, { mode: 0o600 }),
    );
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new CopyError('http-error', `ADD ${url}: download failed: ${(e as Error).message}`, url, { cause: e });
  }
  return { file, digest: `sha256:${hash.digest('hex')}` };
}

function parseChecksum(checksum: string): string {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(checksum.trim());
  if (!m)
    throw new CopyError(
      'bad-checksum',
      `invalid checksum ${JSON.stringify(checksum)}: expected sha256:<64 hex digits>`,
      checksum,
    );
  return m[1]!.toLowerCase();
}
