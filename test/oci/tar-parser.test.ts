import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar, TarParser, type TarHeader } from '../../core/src/oci/index.js';
import { removeDir, sh, tempDir } from './helpers.js';

// Archives written by GNU tar in both of its extended formats: the parser and readTar must agree on them
// however the bytes are cut into chunks (gunzip hands out arbitrary pieces).

interface Parsed {
  header: TarHeader;
  content: string;
}

let tmp = '';
let gnuTar: Buffer;
let paxTar: Buffer;
const longDir = 'd'.repeat(120);
const longFile = 'f'.repeat(110);
const longTarget = 't'.repeat(130);

beforeAll(async () => {
  tmp = await tempDir('tar-parser');
  const src = join(tmp, 'src');
  await mkdir(join(src, longDir), { recursive: true });
  await writeFile(join(src, longDir, longFile), 'long');
  await symlink(longTarget, join(src, 'longlink'));
  await writeFile(join(src, 'a'), 'hi\n');
  await writeFile(join(src, 'caf\u00e9'), Buffer.alloc(70_000, 'x'));
  await sh('setfattr', ['-n', 'user.bin', '-v', '0x0001ff0a00', join(src, 'a')]);
  // GNU format: L/K records for long names, base-256 for owners beyond 7 octal digits.
  const gnu = join(tmp, 'gnu.tar');
  await sh('tar', ['--format=gnu', '--owner=3000000', '--group=2100000000', '-cf', gnu, '-C', src, '.']);
  // PAX: a global header (uid=4242, for every entry without its own) and binary SCHILY.xattr values.
  const pax = join(tmp, 'pax.tar');
  const paxArgs = ['--format=posix', '--pax-option=uid=4242', '--xattrs', '--xattrs-include=*'];
  await sh('tar', [...paxArgs, '-cf', pax, '-C', src, 'a', 'caf\u00e9', 'longlink']);
  gnuTar = await readFile(gnu);
  paxTar = await readFile(pax);
});
afterAll(() => removeDir(tmp));

function parse(archive: Buffer, chunkSize: number): Parsed[] {
  const out: Parsed[] = [];
  let parts: Buffer[] = [];
  let header: TarHeader | undefined;
  const parser = new TarParser({
    entry: (h) => {
      header = h;
      parts = [];
    },
    // Data arrives as views of the input: copy, as the extractor does by writing it out.
    data: (chunk) => parts.push(Buffer.from(chunk)),
    end: () => out.push({ header: header!, content: Buffer.concat(parts).toString() }),
  });
  for (let pos = 0; pos < archive.length; pos += chunkSize) parser.push(archive.subarray(pos, pos + chunkSize));
  parser.end();
  return out;
}

async function pull(archive: Buffer, chunkSize: number): Promise<Parsed[]> {
  const chunks: Buffer[] = [];
  for (let pos = 0; pos < archive.length; pos += chunkSize) chunks.push(archive.subarray(pos, pos + chunkSize));
  const out: Parsed[] = [];
  for await (const { header, body } of readTar(Readable.from(chunks))) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    out.push({ header, content: Buffer.concat(parts).toString() });
  }
  return out;
}

describe('TarParser and readTar', () => {
  it('read GNU long names, long link targets and base-256 owners, however the stream is cut', async () => {
    const whole = parse(gnuTar, gnuTar.length);
    expect(whole.map((e) => `${e.header.path} ${e.header.type} ${e.header.uid}:${e.header.gid}`).sort()).toEqual([
      ' dir 3000000:2100000000', // `./`, which the extractor skips
      'a file 3000000:2100000000',
      'caf\u00e9 file 3000000:2100000000',
      `${longDir} dir 3000000:2100000000`,
      `${longDir}/${longFile} file 3000000:2100000000`,
      'longlink symlink 3000000:2100000000',
    ]);
    expect(whole.find((e) => e.header.path === 'longlink')!.header.linkname).toBe(longTarget);
    expect(whole.find((e) => e.header.path.endsWith(longFile))!.content).toBe('long');
    for (const size of [1, 100, 511, 512, 513, 4096, 65_536]) {
      expect(parse(gnuTar, size)).toEqual(whole);
      expect(await pull(gnuTar, size)).toEqual(whole);
    }
  });

  it('read PAX records: binary xattrs, non-ASCII paths and global headers', async () => {
    const whole = parse(paxTar, paxTar.length);
    const a = whole.find((e) => e.header.path === 'a')!;
    expect(a.header.xattrs).toEqual({ 'user.bin': Buffer.from([0, 1, 0xff, 0x0a, 0]) });
    expect(a.content).toBe('hi\n');
    expect(whole.map((e) => `${e.header.path} ${e.header.uid}`)).toEqual(['a 4242', 'caf\u00e9 4242', 'longlink 4242']);
    expect(whole[1]!.content).toBe('x'.repeat(70_000));
    for (const size of [1, 511, 513, 65_536]) {
      expect(parse(paxTar, size)).toEqual(whole);
      expect(await pull(paxTar, size)).toEqual(whole);
    }
  });

  it('reject an archive cut inside an entry, and tolerate one without the end marker', async () => {
    const cut = paxTar.subarray(0, 5000); // inside café's content
    expect(() => parse(cut, 1000)).toThrow(/unexpected end of archive/);
    await expect(pull(cut, 1000)).rejects.toThrow(/unexpected end of archive/);
    const headerCut = gnuTar.subarray(0, 700);
    expect(() => parse(headerCut, 512)).toThrow(/unexpected end of archive/);
    // GNU tar pads to 10 KiB records; everything after the last entry's padding is end marker or record fill.
    const entries = parse(gnuTar, gnuTar.length);
    let end = gnuTar.length;
    while (end > 0 && gnuTar.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    expect(parse(gnuTar.subarray(0, end), 4096)).toEqual(entries);
    expect(await pull(gnuTar.subarray(0, end), 4096)).toEqual(entries);
  });
});
