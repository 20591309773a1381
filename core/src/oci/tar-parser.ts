import type { EntryType } from './entry.js';

// Tar header decoding, shared by the pull reader (readTar) and the push parser below. Hand-written instead
// of node-tar's Parser: node-tar drops PAX `SCHILY.xattr.*` records and cuts values at NUL, and layers carry
// binary xattrs (security.capability). PAX values stay bytes; ustar, PAX (x/g), GNU long names (L/K) and
// GNU base-256 numbers cover what image builders write.

export interface TarHeader {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

export const BLOCK = 512;

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

const XATTR = 'SCHILY.xattr.';

function str(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul === -1 ? length : nul);
}

function num(buf: Buffer, offset: number, length: number): number {
  if (buf[offset]! & 0x80) {
    // GNU base-256 for values beyond the octal range.
    let value = buf[offset]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + buf[offset + i]!;
    return value;
  }
  const text = str(buf, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** PAX records, values as raw bytes (record lengths are byte counts, so binary values are safe). */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(data.toString('ascii', pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) throw new Error('tar: malformed PAX record');
    const record = data.subarray(space + 1, pos + len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    records.set(record.toString('utf8', 0, eq), record.subarray(eq + 1));
    pos += len;
  }
  return records;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** What one 512-byte header block starts: the end, a metadata record (PAX, long name) or an entry. */
export type HeaderBlock =
  { kind: 'end' } | { kind: 'meta'; flag: string; size: number } | { kind: 'entry'; header: TarHeader; size: number };

/**
 * Turns header blocks into entries. Metadata records (PAX x/g, GNU L/K) apply to the next entry (g to all
 * that follow), so the decoder keeps them between blocks: one decoder per archive. `size` is the number of
 * data bytes after the block (before padding); for an entry it can exceed `header.size`, which is 0 for
 * everything but files.
 */
export class TarHeaderDecoder {
  readonly #global = new Map<string, Buffer>();
  #pax: Map<string, Buffer> | undefined;
  #longName: string | undefined;
  #longLink: string | undefined;

  block(block: Buffer): HeaderBlock {
    // A missing second zero block (or any end marker) is tolerated, as every common reader does.
    if (isZero(block)) return { kind: 'end' };
    const flag = String.fromCharCode(block[156]!);
    const size = num(block, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') return { kind: 'meta', flag, size };
    const pax = this.#pax;
    const rec = (key: string): Buffer | undefined => pax?.get(key) ?? this.#global.get(key);
    let path = rec('path')?.toString('utf8');
    if (path === undefined) path = this.#longName;
    if (path === undefined) {
      const prefix = str(block, 345, 155);
      const name = str(block, 0, 100);
      path = prefix ? `${prefix}/${name}` : name;
    }
    path = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    const paxSize = rec('size');
    const dataSize = paxSize ? Number(paxSize.toString()) : size;
    const type = TYPES[flag];
    if (!type) throw new Error(`tar: unsupported entry type ${JSON.stringify(flag)} for ${path}`);
    const xattrs: Record<string, Buffer> = {};
    if (pax) for (const [k, v] of pax) if (k.startsWith(XATTR)) xattrs[k.slice(XATTR.length)] = v;
    const uid = rec('uid');
    const gid = rec('gid');
    const mtime = rec('mtime');
    const header: TarHeader = {
      path,
      type,
      mode: num(block, 100, 8) & 0o7777,
      uid: uid ? Number(uid.toString()) : num(block, 108, 8),
      gid: gid ? Number(gid.toString()) : num(block, 116, 8),
      size: type === 'file' ? dataSize : 0,
      mtime: mtime ? Math.floor(Number(mtime.toString())) : num(block, 136, 12),
      linkname: rec('linkpath')?.toString('utf8') ?? this.#longLink ?? str(block, 157, 100),
      devmajor: num(block, 329, 8),
      devminor: num(block, 337, 8),
      xattrs,
    };
    this.#pax = undefined;
    this.#longName = this.#longLink = undefined;
    return { kind: 'entry', header, size: dataSize };
  }

  /** The data of a metadata record announced by `block` (exactly its size, padding excluded). */
  meta(flag: string, data: Buffer): void {
    // PAX values are kept as views: copy, since the caller may reuse the bytes for the next record.
    if (flag === 'x') this.#pax = parsePax(Buffer.from(data));
    else if (flag === 'g') for (const [k, v] of parsePax(Buffer.from(data))) this.#global.set(k, v);
    else if (flag === 'L') this.#longName = str(data, 0, data.length);
    else this.#longLink = str(data, 0, data.length);
  }
}

/** Bytes of padding after `size` bytes of data. */
export function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

export interface TarHandlers {
  /** An entry starts; its data follows through `data`, then `end`. */
  entry(header: TarHeader): void;
  /** The next piece of the current entry's data (a view of the input: copy it to keep it). */
  data(chunk: Buffer): void;
  /** The current entry's data is complete. */
  end(): void;
}

const State = { Header: 0, Meta: 1, Data: 2, Skip: 3, Done: 4 } as const;

/**
 * A synchronous push parser: feed it the chunks of an uncompressed tar stream as they arrive, and it calls
 * the handlers in archive order without awaiting anything, so a consumer that works synchronously costs no
 * promise per entry. Data is passed through as views of the input, so large entries stream.
 */
export class TarParser {
  readonly #decoder = new TarHeaderDecoder();
  readonly #handlers: TarHandlers;
  #state: number = State.Header;
  /** A header block or metadata record split across chunks. */
  #partial: Buffer = Buffer.alloc(BLOCK);
  #have = 0;
  #need = BLOCK;
  #metaFlag = '';
  /** Data bytes left in the current entry, then padding bytes left to skip. */
  #left = 0;
  #pad = 0;

  constructor(handlers: TarHandlers) {
    this.#handlers = handlers;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      switch (this.#state) {
        case State.Header:
        case State.Meta: {
          let record: Buffer;
          if (this.#have === 0 && length - pos >= this.#need) {
            record = chunk.subarray(pos, pos + this.#need);
            pos += this.#need;
          } else {
            const take = Math.min(this.#need - this.#have, length - pos);
            chunk.copy(this.#partial, this.#have, pos, pos + take);
            this.#have += take;
            pos += take;
            if (this.#have < this.#need) return;
            record = this.#partial.subarray(0, this.#need);
          }
          this.#have = 0;
          if (this.#state === State.Header) this.#onHeader(record);
          else {
            this.#decoder.meta(this.#metaFlag, record);
            this.#skip(paddingOf(this.#need));
          }
          break;
        }
        case State.Data: {
          const take = Math.min(this.#left, length - pos);
          this.#left -= take;
          this.#handlers.data(chunk.subarray(pos, pos + take));
          pos += take;
          if (this.#left === 0) {
            this.#handlers.end();
            this.#skip(this.#pad);
          }
          break;
        }
        case State.Skip: {
          const take = Math.min(this.#left, length - pos);
          this.#left -= take;
          pos += take;
          if (this.#left === 0) this.#expectHeader();
          break;
        }
        case State.Done:
          return; // whatever follows the end marker (the second zero block, record padding) is ignored
      }
    }
  }

  /** The input ended: throws if it ended inside an entry. */
  end(): void {
    if (this.#state === State.Done || (this.#state === State.Header && this.#have === 0)) return;
    throw new Error('tar: unexpected end of archive');
  }

  #onHeader(block: Buffer): void {
    const next = this.#decoder.block(block);
    if (next.kind === 'end') {
      this.#state = State.Done;
    } else if (next.kind === 'meta') {
      this.#state = State.Meta;
      this.#metaFlag = next.flag;
      this.#need = next.size;
      if (this.#need > this.#partial.length) this.#partial = Buffer.alloc(this.#need);
      if (this.#need === 0) {
        this.#decoder.meta(next.flag, Buffer.alloc(0));
        this.#expectHeader();
      }
    } else {
      this.#handlers.entry(next.header);
      if (next.size === 0) {
        this.#handlers.end();
        this.#expectHeader();
      } else {
        this.#state = State.Data;
        this.#left = next.size;
        this.#pad = paddingOf(next.size);
      }
    }
  }

  #skip(bytes: number): void {
    if (bytes === 0) return this.#expectHeader();
    this.#state = State.Skip;
    this.#left = bytes;
  }

  #expectHeader(): void {
    this.#state = State.Header;
    this.#need = BLOCK;
  }
}
