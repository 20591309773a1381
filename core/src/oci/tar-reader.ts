import { BLOCK, paddingOf, TarHeaderDecoder, type TarHeader } from './tar-parser.js';

// A pull reader for consumers that await per entry (ADD archives). Extraction of whole layers uses the
// push parser in tar-parser.ts; both decode headers with the same TarHeaderDecoder.

export type { TarHeader } from './tar-parser.js';

export interface TarEntry {
  header: TarHeader;
  /** The content; must be consumed (or skipped with `drain`) before the next entry is requested. */
  body: AsyncIterable<Buffer>;
}

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

/** The entries of an uncompressed tar stream, in archive order. */
export async function* readTar(source: AsyncIterable<Buffer | string>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  const decoder = new TarHeaderDecoder();
  for (;;) {
    const first = await reader.some(BLOCK);
    // A missing end-of-archive marker is tolerated, as every common reader does.
    if (!first) return;
    const block = first.length < BLOCK ? Buffer.concat([first, await reader.exactly(BLOCK - first.length)]) : first;
    const next = decoder.block(block);
    if (next.kind === 'end') return;
    if (next.kind === 'meta') {
      decoder.meta(next.flag, (await reader.exactly(next.size + paddingOf(next.size))).subarray(0, next.size));
      continue;
    }
    const { header, size } = next;
    let left = size;
    const body = (async function* () {
      while (left > 0) {
        const chunk = await reader.some(left);
        if (!chunk) throw new Error(`tar: unexpected end of archive in ${header.path}`);
        left -= chunk.length;
        yield chunk;
      }
    })();
    yield { header, body };
    // Skip whatever the consumer did not read, then the block padding.
    while (left > 0) {
      const chunk = await reader.some(left);
      if (!chunk) throw new Error(`tar: unexpected end of archive in ${header.path}`);
      left -= chunk.length;
    }
    const pad = paddingOf(size);
    if (pad > 0) await reader.exactly(pad);
  }
}
