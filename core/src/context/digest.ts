/**
 * The content digest of a selection: sha256 over a canonical listing of what the COPY produces
 * (destination path, type, permission bits including setuid/setgid/sticky, file content digest or
 * symlink target). Not mtime, uid or gid: they do not reach the image (layers normalize them), so
 * they must not invalidate the cache. File contents come from the stat cache when it can vouch.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Selection } from './select.js';
import { StatCache } from './stat-cache.js';

export interface SelectionDigest {
  /** `sha256:<hex>` */
  digest: string;
  /** Files whose content this call read (0 when the stat cache knew them all). */
  filesRead: number;
  bytesRead: number;
}

const CONCURRENCY = 32;
const WHOLE_FILE_LIMIT = 4 * 1024 * 1024;
const LISTING_VERSION = 'drydock-context-v1';

export async function digestSelection(
  contextDir: string,
  selection: Selection,
  statCache: StatCache = StatCache.memory(),
): Promise<SelectionDigest> {
  const contents = new Map<string, string>();
  const files = [...new Set(selection.filter((e) => e.type === 'file').map((e) => e.src))];
  let filesRead = 0;
  let bytesRead = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const src = files[next++]!;
      const abs = join(contextDir, src);
      const statAtNs = BigInt(Date.now()) * 1_000_000n;
      const st = await lstat(abs, { bigint: true });
      if (!st.isFile()) throw new Error(`${abs} is no longer a regular file (the context changed during the build)`);
      let digest = statCache.get(abs, st);
      if (digest === undefined) {
        digest = await hashFile(abs, st.size);
        filesRead++;
        bytesRead += Number(st.size);
        statCache.set(abs, st, digest, statAtNs);
      }
      contents.set(src, digest);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
  statCache.filesRead += filesRead;
  statCache.bytesRead += bytesRead;

  const hash = createHash('sha256').update(LISTING_VERSION + '\n');
  for (const e of selection) {
    // A file copied onto the destination itself keeps its name in case the destination is a directory.
    const where = e.dest === '' ? `=${e.name}` : e.dest;
    const what = e.type === 'file' ? contents.get(e.src)! : e.type === 'symlink' ? e.linkTarget! : '';
    hash.update(JSON.stringify([where, e.type, e.mode.toString(8), what]) + '\n');
  }
  return { digest: `sha256:${hash.digest('hex')}`, filesRead, bytesRead };
}

async function hashFile(abs: string, size: bigint): Promise<string> {
  const hash = createHash('sha256');
  if (size <= WHOLE_FILE_LIMIT) {
    hash.update(await readFile(abs));
  } else {
    for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
  }
  return `sha256:${hash.digest('hex')}`;
}
