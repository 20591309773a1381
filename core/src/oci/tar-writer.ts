import { closeSync, createReadStream, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { LayerEntry, EntryType } from './entry.js';

// A hand-written ustar + PAX encoder rather than node-tar's Pack: every byte of the header is decided
// here (no uname/gname, no atime/ctime, fixed PAX header names, no record padding), which is what makes
// a layer's diffID a function of its entries alone. Entries must already be in canonical order.

const BLOCK = 512;
const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};
// Largest values the octal ustar fields hold (width - 1 digits); beyond them the PAX record carries it.
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

/** Splits a path into ustar prefix + name when it fits, else undefined (then a PAX `path` record is needed). */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (!isAscii(path)) return undefined;
  if (path.length <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    if (i <= 155 && path.length - i - 1 <= 100 && path.length - i - 1 > 0) {
      return { prefix: path.slice(0, i), name: path.slice(i + 1) };
    }
  }
  return undefined;
}

interface HeaderFields {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function encodeHeader(h: HeaderFields): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(h.name, 0, 100, 'utf8');
  octal(buf, 100, 8, h.mode);
  octal(buf, 108, 8, h.uid);
  octal(buf, 116, 8, h.gid);
  octal(buf, 124, 12, h.size);
  octal(buf, 136, 12, h.mtime);
  buf.write('        ', 148, 8, 'ascii'); // checksum is computed with its own field as spaces
  buf.write(h.typeflag, 156, 1, 'ascii');
  buf.write(h.linkname, 157, 100, 'utf8');
  buf.write('ustar\0' + '00', 257, 8, 'ascii');
  octal(buf, 329, 8, h.devmajor);
  octal(buf, 337, 8, h.devminor);
  buf.write(h.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return buf;
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "<len> <key>=<value>\n" where len counts itself: grow the digit count until it is stable.
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'ascii'), body]);
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest);
}

/** Headers (PAX if needed, then ustar) for one entry, its mtime already clamped. */
export function entryHeaders(entry: LayerEntry, mtime: number): Buffer[] {
  const tarPath = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const size = entry.type === 'file' ? (entry.size ?? 0) : 0;
  const linkname = entry.linkname ?? '';
  const pax: Buffer[] = [];
  const split = splitUstarPath(tarPath);
  if (!split) pax.push(paxRecord('path', Buffer.from(tarPath, 'utf8')));
  const linkFits = isAscii(linkname) && linkname.length <= 100;
  if (!linkFits) pax.push(paxRecord('linkpath', Buffer.from(linkname, 'utf8')));
  if (entry.uid > MAX_OCTAL_7) pax.push(paxRecord('uid', Buffer.from(String(entry.uid))));
  if (entry.gid > MAX_OCTAL_7) pax.push(paxRecord('gid', Buffer.from(String(entry.gid))));
  if (size > MAX_OCTAL_11) pax.push(paxRecord('size', Buffer.from(String(size))));
  if (mtime < 0 || mtime > MAX_OCTAL_11) throw new Error(`layer entry ${entry.path}: mtime ${mtime} out of range`);
  for (const name of Object.keys(entry.xattrs ?? {}).sort()) {
    pax.push(paxRecord(`SCHILY.xattr.${name}`, entry.xattrs![name]!));
  }
  const out: Buffer[] = [];
  if (pax.length > 0) {
    const data = Buffer.concat(pax);
    // Go's archive/tar names PAX headers "<dir>/PaxHeaders.0/<base>"; any fixed name works, readers ignore it.
    const base = entry.path.slice(entry.path.lastIndexOf('/') + 1);
    out.push(
      encodeHeader({
        name: truncateAscii(`PaxHeaders.0/${base}`, 99),
        prefix: '',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: data.length,
        mtime,
        typeflag: 'x',
        linkname: '',
        devmajor: 0,
        devminor: 0,
      }),
      data,
      padding(data.length),
    );
  }
  const isDev = entry.type === 'char' || entry.type === 'block';
  out.push(
    encodeHeader({
      name: split?.name ?? truncateAscii(tarPath, 100),
      prefix: split?.prefix ?? '',
      mode: entry.mode & 0o7777,
      uid: Math.min(entry.uid, MAX_OCTAL_7),
      gid: Math.min(entry.gid, MAX_OCTAL_7),
      size: Math.min(size, MAX_OCTAL_11),
      mtime,
      typeflag: TYPEFLAG[entry.type],
      linkname: linkFits ? linkname : truncateAscii(linkname, 100),
      devmajor: isDev ? (entry.devmajor ?? 0) : 0,
      devminor: isDev ? (entry.devminor ?? 0) : 0,
    }),
  );
  return out;
}

/** A readable placeholder for a field whose real value is in the PAX header. */
function truncateAscii(s: string, width: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, width);
}

/**
 * What a host file was when its content was hashed (a build context's walk): the file read for the
 * layer must still be that one, or the layer would hold other bytes than its cache key says.
 */
export interface HostFileStat {
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** Content openers that are host files: tarChunks reads those synchronously instead of through a stream. */
const hostFiles = new WeakMap<() => Readable, { abs: string; expect: HostFileStat | undefined }>();

/**
 * A content opener for the host file `abs`. It works as any other opener, and lets tarChunks read the file
 * with a few system calls instead of a stream: for thousands of small files, stream set-up costs more than
 * the reading. With `expect`, the file read must still have that inode and those times.
 */
export function hostFileContent(abs: string, expect?: HostFileStat): () => Readable {
  const open = (): Readable => createReadStream(abs);
  hostFiles.set(open, { abs, expect });
  return open;
}

function checkUnchanged(entry: LayerEntry, host: string, expect: HostFileStat | undefined, fd?: number): void {
  if (expect === undefined) return;
  const st = fd === undefined ? lstatSync(host, { throwIfNoEntry: false }) : fstatSync(fd);
  if (st === undefined) throw removedError(entry, host);
  if (!isHashedFile(st, expect)) throw new Error(`layer entry ${entry.path}: ${host} changed while the build read it`);
}

/** Whether a file's stats are those it had when its content was hashed (same inode, times unchanged). */
export function isHashedFile(st: HostFileStat, expect: HostFileStat): boolean {
  return st.ino === expect.ino && st.mtimeMs === expect.mtimeMs && st.ctimeMs === expect.ctimeMs;
}

// Headers and contents are gathered into buffers of this size, so hashing and compressing (and any stream
// between them) see a few large chunks instead of several small ones per entry. Large files still stream.
const BATCH = 1024 * 1024;

/** Yielded by tarMemberChunks where a gzip member ends (see members.ts). */
export const MEMBER_END: unique symbol = Symbol('member end');
export type TarPiece = Buffer | typeof MEMBER_END;

/** Where the archive is cut into members; tarMemberChunks only cuts, the choice is the caller's. */
export interface MemberSplit {
  /** Files larger than this are also cut inside, at multiples of it from the start of their content. */
  fileChunk: number;
  /**
   * Whether a member ends after `entry`, whose headers, content and padding took `entryBytes`; the member
   * then holds `memberBytes`. Never asked after the last entry: the end-of-archive blocks join its member.
   */
  cutAfter(entry: LayerEntry, entryBytes: number, memberBytes: number): boolean;
  /** Whether a member ends before `entry` (asked only when the member holds something). */
  cutBefore?(entry: LayerEntry): boolean;
}

/** The archive's bytes gathered into BATCH-sized buffers; each piece is handed out once and not touched again. */
class Batches {
  buf = Buffer.allocUnsafe(BATCH);
  used = 0;
  /** Bytes of the archive so far, and of the current member. */
  total = 0;
  memberBytes = 0;
  readonly full: TarPiece[] = [];
  // Start of the part of `buf` not yet handed out: after a cut, the next member continues in the same buffer.
  #start = 0;

  get room(): number {
    return BATCH - this.used;
  }

  /** Marks `n` more bytes of `buf` as written (by a read straight into it). */
  advance(n: number): void {
    this.used += n;
    this.total += n;
    this.memberBytes += n;
    if (this.used === BATCH) this.#seal();
  }

  put(data: Buffer): void {
    for (let pos = 0; pos < data.length;) {
      const n = Math.min(this.room, data.length - pos);
      data.copy(this.buf, this.used, pos, pos + n);
      pos += n;
      this.advance(n);
    }
  }

  zeros(count: number): void {
    for (let left = count; left > 0;) {
      const n = Math.min(this.room, left);
      this.buf.fill(0, this.used, this.used + n);
      left -= n;
      this.advance(n);
    }
  }

  /** Ends the current member here. */
  cut(): void {
    if (this.used > this.#start) this.full.push(this.buf.subarray(this.#start, this.used));
    this.#start = this.used;
    this.full.push(MEMBER_END);
    this.memberBytes = 0;
  }

  /** The pieces so far, and with `end` the partial one too. */
  *take(end = false): Generator<TarPiece> {
    if (end && this.used > this.#start) {
      this.full.push(this.buf.subarray(this.#start, this.used));
      this.#start = this.used;
    }
    while (this.full.length > 0) yield this.full.shift()!;
  }

  #seal(): void {
    this.full.push(this.buf.subarray(this.#start));
    this.buf = Buffer.allocUnsafe(BATCH);
    this.used = 0;
    this.#start = 0;
  }
}

function openHost(entry: LayerEntry, host: string): number {
  try {
    return openSync(host, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw removedError(entry, host);
  }
}

const removedError = (entry: LayerEntry, host: string): Error =>
  new Error(`layer entry ${entry.path}: ${host} was removed while the build read it`);

function sizeError(entry: LayerEntry, size: number, read: number): Error {
  // A file that changed while it was read would give a corrupt archive: fail instead.
  return new Error(`layer entry ${entry.path}: expected ${size} bytes of content, read ${read}`);
}

/**
 * The tar stream for entries in the given order: headers, content (exactly `size` bytes, or an error),
 * block padding, and the two zero blocks that end an archive.
 */
export async function* tarChunks(entries: readonly LayerEntry[], epoch: number): AsyncGenerator<Buffer> {
  for await (const piece of tarMemberChunks(entries, epoch)) if (piece !== MEMBER_END) yield piece;
}

/** The same tar stream as tarChunks, with MEMBER_END wherever `split` cuts it. */
export async function* tarMemberChunks(
  entries: readonly LayerEntry[],
  epoch: number,
  split?: MemberSplit,
): AsyncGenerator<TarPiece> {
  const out = new Batches();
  // Files larger than a chunk are also cut at multiples of it into their content (0: not cut inside).
  const cutsInside = (size: number): number => (split && size > split.fileChunk ? split.fileChunk : 0);
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (split?.cutBefore?.(entry) && out.memberBytes > 0) out.cut();
    const start = out.total;
    const mtime = Math.min(entry.mtime ?? epoch, epoch);
    for (const header of entryHeaders(entry, mtime)) out.put(header);
    if (entry.type === 'file') {
      const size = entry.size ?? 0;
      const chunk = cutsInside(size);
      const hostFile = hostFiles.get(entry.content!);
      if (size === 0 && hostFile) checkUnchanged(entry, hostFile.abs, hostFile.expect);
      if (size > 0) {
        if (hostFile !== undefined) {
          const host = hostFile.abs;
          // Read straight into the batch; ask for one byte more than promised to see a file that grew.
          const fd = openHost(entry, host);
          try {
            checkUnchanged(entry, host, hostFile.expect, fd);
            let read = 0;
            for (;;) {
              let want = Math.min(size - read + 1, out.room);
              const nextCut = chunk > 0 ? read - (read % chunk) + chunk : size;
              if (nextCut < size) want = Math.min(want, nextCut - read);
              const n = readSync(fd, out.buf, out.used, want, null);
              if (n === 0) break;
              read += n;
              if (read > size) throw sizeError(entry, size, read);
              out.advance(n);
              if (chunk > 0 && read % chunk === 0 && read < size) out.cut();
              for (const batch of out.take()) yield batch;
            }
            if (read !== size) throw sizeError(entry, size, read);
          } finally {
            closeSync(fd);
          }
        } else {
          let written = 0;
          for await (const data of entry.content!()) {
            let buf = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
            if (written + buf.length > size) {
              written += buf.length;
              break;
            }
            while (chunk > 0 && buf.length > 0 && (written % chunk) + buf.length >= chunk) {
              // This piece reaches the next cut inside the file: write up to it and cut, unless it is the end.
              const n = chunk - (written % chunk);
              out.put(buf.subarray(0, n));
              written += n;
              buf = buf.subarray(n);
              if (written < size) out.cut();
            }
            out.put(buf);
            written += buf.length;
            for (const batch of out.take()) yield batch;
          }
          if (written !== size) throw sizeError(entry, size, written);
        }
      }
      out.zeros((BLOCK - (size % BLOCK)) % BLOCK);
    }
    if (split && i < entries.length - 1 && split.cutAfter(entry, out.total - start, out.memberBytes)) out.cut();
    for (const batch of out.take()) yield batch;
  }
  out.zeros(BLOCK * 2);
  for (const batch of out.take(true)) yield batch;
}
