/**
 * The content digest of a selection: sha256 over a canonical listing of what the COPY produces
 * (destination path, type, permission bits including setuid/setgid/sticky, file content digest or
 * symlink target). Not mtime, uid or gid: they do not reach the image (layers normalize them), so
 * they must not invalidate the cache. File contents come from the stat cache when it can vouch.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Selection } from './select.js';
import { StatCache, type FileStat } from './stat-cache.js';
import type { ContextIndex } from './walk.js';

export interface SelectionDigest {
  /** `sha256:<hex>` */
  digest: string;
  /** Files whose content this call read (0 when the stat cache knew them all). */
  filesRead: number;
  bytesRead: number;
}

const CONCURRENCY = 8;
const WHOLE_FILE_LIMIT = 1024 * 1024;
const LISTING_VERSION = 'drydock-context-v1';

export async function digestSelection(
  contextDir: string,
  selection: Selection,
  statCache: StatCache = StatCache.memory(),
  /**
   * The index the selection came from: its lstat results are used instead of statting each file
   * again (half the cost of a warm run). A file changed since the walk is then caught by the next
   * build, exactly as if it had changed just after this one.
   */
  index?: ContextIndex,
): Promise<SelectionDigest> {
  const contents = new Map<string, string>();
  const files = [...new Set(selection.filter((e) => e.type === 'file').map((e) => e.src))];
  let filesRead = 0;
  let bytesRead = 0;
  // Stat and cache lookups are synchronous (see walk.ts: far cheaper than threadpool round trips);
  // small files are read synchronously too, large ones streamed; the event loop gets a turn
  // every few hundred files.
  const large: [string, string, FileStat, bigint][] = [];
  let sinceYield = 0;
  for (const src of files) {
    const abs = join(contextDir, src);
    const walked = index?.entries.get(src);
    let st: FileStat;
    let statAtNs: bigint;
    if (walked !== undefined && index!.dir === contextDir) {
      st = {
        dev: walked.dev,
        ino: walked.ino,
        size: BigInt(walked.size),
        mtimeNs: walked.mtimeNs,
        ctimeNs: walked.ctimeNs,
      };
      statAtNs = index!.walkedAtNs;
    } else {
      statAtNs = BigInt(Date.now()) * 1_000_000n;
      const fresh = lstatSync(abs, { bigint: true });
      if (!fresh.isFile()) throw new Error(`${abs} is no longer a regular file (the context changed during the build)`);
      st = fresh;
    }
    const known = statCache.get(abs, st);
    if (known !== undefined) {
      contents.set(src, known);
      continue;
    }
    if (st.size > WHOLE_FILE_LIMIT) {
      large.push([src, abs, st, statAtNs]);
      continue;
    }
    const digest = `sha256:${createHash('sha256').update(readFileSync(abs)).digest('hex')}`;
    filesRead++;
    bytesRead += Number(st.size);
    statCache.set(abs, st, digest, statAtNs);
    contents.set(src, digest);
    if (++sinceYield >= 500) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < large.length) {
      const [src, abs, st, statAtNs] = large[next++]!;
      const digest = await hashStream(abs);
      filesRead++;
      bytesRead += Number(st.size);
      statCache.set(abs, st, digest, statAtNs);
      contents.set(src, digest);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, large.length) }, worker));
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

async function hashStream(abs: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
