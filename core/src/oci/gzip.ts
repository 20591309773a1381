import { once } from 'node:events';
import zlib from 'node:zlib';

// Node's createGzip lets zlib write the header, whose OS byte is the build's OS_CODE (3 on Unix, other
// values elsewhere). Writing the 10-byte header and the trailer ourselves around a raw deflate stream with
// every parameter fixed makes the compressed bytes depend only on the input and on zlib's deflate.

/** Fixed compression parameters: changing any of them changes every layer digest. */
const DEFLATE_OPTIONS: zlib.ZlibOptions = {
  level: 6,
  memLevel: 8,
  windowBits: 15,
  strategy: zlib.constants.Z_DEFAULT_STRATEGY,
};

// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as Go's compress/gzip writes it.
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);
const TRAILER_SIZE = 8;

/** CRC32 and ISIZE (the length mod 2^32) of the uncompressed data, little-endian. */
function trailer(crc: number, length: number): Buffer {
  const out = Buffer.alloc(TRAILER_SIZE);
  out.writeUInt32LE(crc >>> 0, 0);
  out.writeUInt32LE(length >>> 0, 4);
  return out;
}

/**
 * One complete gzip member for the bytes of `pieces`, in parts (header, deflate output as it came, trailer)
 * so that nothing is copied into one buffer; deflate runs on the thread pool. Same header, parameters and
 * trailer as DeterministicGzip. `crc` is zlib.crc32 of all the pieces.
 */
export async function gzipMember(pieces: readonly Buffer[], crc: number): Promise<Buffer[]> {
  // Output slices share chunkSize-sized buffers: a few large ones rather than zlib's 16 KiB default.
  const deflate = zlib.createDeflateRaw({ ...DEFLATE_OPTIONS, chunkSize: 128 * 1024 });
  const parts: Buffer[] = [HEADER];
  deflate.on('data', (chunk: Buffer) => parts.push(chunk));
  const done = once(deflate, 'end');
  let length = 0;
  for (const piece of pieces) {
    length += piece.length;
    deflate.write(piece);
  }
  deflate.end();
  await done;
  parts.push(trailer(crc, length));
  return parts;
}

/**
 * Whether `member` could be gzipMember's output for data of this crc and length: the fixed header and a
 * matching trailer. Catches a truncated or foreign file cheaply; it does not inflate the body.
 */
export function isGzipMemberOf(member: Buffer, crc: number, length: number): boolean {
  if (
    member.length < HEADER.length + 2 + TRAILER_SIZE ||
    !member.subarray(0, HEADER.length).equals(HEADER) ||
    !member.subarray(member.length - TRAILER_SIZE).equals(trailer(crc, length))
  ) {
    return false;
  }
  // A damaged body behind a good header and trailer would give a blob whose diff_id lies: inflate
  // it (far cheaper than deflate) and check what comes out.
  try {
    const body = zlib.inflateRawSync(member.subarray(HEADER.length, member.length - TRAILER_SIZE));
    return body.length === length && zlib.crc32(body) >>> 0 === crc >>> 0;
  } catch {
    return false;
  }
}
