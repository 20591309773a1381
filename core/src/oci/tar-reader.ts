import type { EntryType } from './entry.js';

// A small tar reader instead of node-tar's Parser: node-tar drops PAX `SCHILY.xattr.*` records and cuts
// values at NUL, and layers carry binary xattrs (security.capability). This one keeps PAX values as
// bytes and understands ustar, PAX (x/g) and GNU long names (L/K), which covers what image builders write.

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

export interface TarEntry {
  header: TarHeader;
  /** The content; must be consumed (or skipped with `drain`) before the next entry is requested. */
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;
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

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  readonly #it: AsyncIterator<Buffer | string>;
  #buf: Buffer = Buffer.alloc(0);
  constructor(source: AsyncIterable<Buffer | string>) {
    this.#it = source[Symbol.asyncIterator]();
  }
  /** Up to `max` bytes (at least 1), or undefined at the end of input. */
  async some(max: number): Promise<Buffer | undefined> {
    if (this.#buf.length === 0) {
      const next = await this.#it.next();
      if (next.done) return undefined;
      this.#buf = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
    const out = this.#buf.subarray(0, max);
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }
  async exactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.some(n - got);
      if (!part) throw new Error('tar: unexpected end of archive');
      parts.push(part);
      got += part.length;
    }
    return Buffer.concat(parts);
  }
}

function str(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? length : nul).toString('utf8');
}

function num(buf: Buffer, offset: number, length: number): number {
  const field = buf.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    // GNU base-256 for values beyond the octal range.
    let value = field[0]! & 0x7f;
    for (let i = 1; i < length; i++) value = value * 256 + field[i]!;
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
    const len = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) throw new Error('tar: malformed PAX record');
    const record = data.subarray(space + 1, pos + len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
    pos += len;
  }
  return records;
}

function isZero(block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/** The entries of an uncompressed tar stream, in archive order. */
export async function* readTar(source: AsyncIterable<Buffer | string>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  const global = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const first = await reader.some(BLOCK);
    // A missing end-of-archive marker is tolerated, as every common reader does.
    const block =
      first && first.length < BLOCK ? Buffer.concat([first, await reader.exactly(BLOCK - first.length)]) : first;
    if (!block || isZero(block)) return;
    const flag = String.fromCharCode(block[156]!);
    let size = num(block, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      const data = (await reader.exactly(padded)).subarray(0, size);
      if (flag === 'x') pax = parsePax(data);
      else if (flag === 'g') for (const [k, v] of parsePax(data)) global.set(k, v);
      else if (flag === 'L') longName = str(data, 0, data.length);
      else longLink = str(data, 0, data.length);
      continue;
    }
    const rec = (key: string): Buffer | undefined => pax.get(key) ?? global.get(key);
    const prefix = str(block, 345, 155);
    const name = str(block, 0, 100);
    let path = rec('path')?.toString('utf8') ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    path = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (rec('size')) size = Number(rec('size')!.toString());
    const type = TYPES[flag];
    if (!type) throw new Error(`tar: unsupported entry type ${JSON.stringify(flag)} for ${path}`);
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
    const header: TarHeader = {
      path,
      type,
      mode: num(block, 100, 8) & 0o7777,
      uid: rec('uid') ? Number(rec('uid')!.toString()) : num(block, 108, 8),
      gid: rec('gid') ? Number(rec('gid')!.toString()) : num(block, 116, 8),
      size: type === 'file' ? size : 0,
      mtime: rec('mtime') ? Math.floor(Number(rec('mtime')!.toString())) : num(block, 136, 12),
      linkname: rec('linkpath')?.toString('utf8') ?? longLink ?? str(block, 157, 100),
      devmajor: num(block, 329, 8),
      devminor: num(block, 337, 8),
      xattrs,
    };
    pax = new Map();
    longName = longLink = undefined;
    let remaining = padded;
    let left = size;
    const body = (async function* () {
      while (left > 0) {
        const chunk = await reader.some(left);
        if (!chunk) throw new Error(`tar: unexpected end of archive in ${path}`);
        left -= chunk.length;
        remaining -= chunk.length;
        yield chunk;
      }
    })();
    yield { header, body };
    // Skip whatever the consumer did not read, then the block padding.
    while (left > 0) {
      const chunk = await reader.some(left);
      if (!chunk) throw new Error(`tar: unexpected end of archive in ${path}`);
      left -= chunk.length;
      remaining -= chunk.length;
    }
    if (remaining > 0) await reader.exactly(remaining);
  }
}
