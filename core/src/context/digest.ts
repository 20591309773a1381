/**
 * The content digest of a selection: sha256 over a canonical listing of what the COPY produces
 * (destination path, type, permission bits including setuid/setgid/sticky, file content digest or
 * symlink target). Not mtime, uid or gid: they do not reach the image (layers normalize them), so
 * they must not invalidate the cache. File contents come from the stat cache when it can vouch.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readFileSync } from 'node:fs';
import { ContextChangedError } from './errors.js';
import type { Selection } from './select.js';
import { StatCache, rootOf, type FileStat } from './stat-cache.js';
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
  // Looked up by context-relative path: the walk already hashed those strings, so a lookup does
  // not build and hash an absolute path per file.
  const cache = statCache.under(contextDir);
  const root = rootOf(contextDir);
  const walked = index !== undefined && index.dir === contextDir ? index : undefined;
  // Each file entry's content digest, by position in the selection: a warm run then touches no
  // map beyond the walk's and the cache's (at 20,000 files, each map costs milliseconds).
  const contents = new Array<string>(selection.length);
  // Files this call reads, so that a source selected twice is read once.
  const read = new Map<string, string>();
  const large = new Map<string, { st: FileStat; statAtMs: number; at: number[] }>();
  let filesRead = 0;
  let bytesRead = 0;
  // Stat and cache lookups are synchronous (see walk.ts: far cheaper than threadpool round trips);
  // small files are read synchronously too, large ones streamed; the event loop gets a turn
  // every few hundred files.
  let sinceYield = 0;
  for (let i = 0; i < selection.length; i++) {
    const { type, src } = selection[i]!;
    if (type !== 'file') continue;
    // A walked entry is itself a FileStat: no stat and no copy.
    let st: FileStat | undefined = walked?.entries.get(src);
    let statAtMs: number;
    if (st !== undefined) {
      statAtMs = walked!.restatAtMs?.get(src) ?? walked!.walkedAtMs;
    } else {
      statAtMs = Date.now();
      const fresh = lstatSync(root + src, { throwIfNoEntry: false });
      if (!fresh?.isFile()) {
        throw new ContextChangedError(contextDir, src, fresh ? 'is no longer a regular file' : 'was removed');
      }
      st = fresh;
    }
    const known = cache.get(src, st) ?? read.get(src);
    if (known !== undefined) {
      contents[i] = known;
      continue;
    }
    if (st.size > WHOLE_FILE_LIMIT) {
      const queued = large.get(src);
      if (queued) queued.at.push(i);
      else large.set(src, { st, statAtMs, at: [i] });
      continue;
    }
    const digest = `sha256:${createHash('sha256')
      .update(readListed(contextDir, src, root + src))
      .digest('hex')}`;
    filesRead++;
    bytesRead += st.size;
    cache.set(src, st, digest, statAtMs);
    read.set(src, digest);
    contents[i] = digest;
    if (++sinceYield >= 500) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
  }
  const queue = [...large];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [src, { st, statAtMs, at }] = next;
      const digest = await hashStream(root + src).catch((e: unknown) => {
        throw asChanged(e, contextDir, src);
      });
      filesRead++;
      bytesRead += st.size;
      cache.set(src, st, digest, statAtMs);
      for (const i of at) contents[i] = digest;
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  statCache.filesRead += filesRead;
  statCache.bytesRead += bytesRead;
  return { digest: listingDigest(selection, contents), filesRead, bytesRead };
}

/**
 * sha256 over one line per entry: the JSON array `[where, type, octal mode, content digest or link
 * target]`. Lines are built as strings and hashed in chunks of ~64 KiB: one `update` per entry
 * costs more than building the line.
 */
function listingDigest(selection: Selection, contents: string[]): string {
  const hash = createHash('sha256');
  let chunk = LISTING_VERSION + '\n';
  for (let i = 0; i < selection.length; i++) {
    const e = selection[i]!;
    // A file copied onto the destination itself keeps its name in case the destination is a directory.
    const where = e.dest === '' ? `=${e.name}` : e.dest;
    const what = e.type === 'file' ? contents[i]! : e.type === 'symlink' ? e.linkTarget! : '';
    chunk += `[${jsonString(where)},"${e.type}","${e.mode.toString(8)}",${jsonString(what)}]\n`;
    if (chunk.length >= 65536) {
      hash.update(chunk);
      chunk = '';
    }
  }
  return `sha256:${hash.update(chunk).digest('hex')}`;
}

// Characters JSON.stringify escapes (quote, backslash, controls, lone surrogates); other strings
// it only quotes, which is done here without its call.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** A listed file's content; one gone since the walk listed it is a ContextChangedError. */
function readListed(contextDir: string, src: string, abs: string): Buffer {
  try {
    return readFileSync(abs);
  } catch (e) {
    throw asChanged(e, contextDir, src);
  }
}

/** A read's error as what it says of the context: a ContextChangedError when the file went away. */
function asChanged(e: unknown, contextDir: string, src: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ContextChangedError(contextDir, src, 'was removed');
  if (code === 'EISDIR') return new ContextChangedError(contextDir, src, 'is no longer a regular file');
  return e;
}

async function hashStream(abs: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(abs)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
