import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  applyLayerAsLowerdir,
  buildImageConfig,
  buildManifest,
  entriesFromDirectory,
  serializeImageConfig,
  serializeManifest,
  sha256,
  writeDockerArchive,
  writeLayer,
  writeOciLayout,
  type ImageSource,
  type LayerEntry,
  type WrittenLayer,
} from '../../core/src/oci/index.js';
import { describeTree, isRoot, removeDir, sh, tempDir } from './helpers.js';

// Layers are multi-member gzip with content-defined member boundaries (core/src/oci/members.ts): an edit
// changes one member, a member cache gives the same bytes as deflating, and every reader takes them.

const EPOCH = 1_700_000_000;
const DOCKER = '/usr/bin/docker';
const BIG = 10 * 1024 * 1024;
const owner = { uid: 0, gid: 0 };
let tmp = '';
let tree = '';

/** Deterministic text: the same tree, so the same members, on every run. */
function text(seed: number, size: number): string {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  let a = seed >>> 0;
  let out = '';
  while (out.length < size) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out += words[a >>> 29] + ((a & 0xff) < 24 ? '\n' : ' ');
  }
  return out.slice(0, size);
}

/** 4,000 small files (about 10 MiB of tar) and one 10 MiB file, which is cut inside. */
async function makeTree(root: string): Promise<void> {
  for (let d = 0; d < 40; d++) await mkdir(join(root, `d${d}`), { recursive: true });
  for (let i = 0; i < 4000; i++) await writeFile(join(root, `d${i % 40}`, `f${i}.txt`), text(i, (i * 7919) % 3000));
  await writeFile(join(root, 'big.bin'), text(99, BIG));
  await sh('sh', ['-c', `find '${root}' -type d -exec chmod 755 {} + && find '${root}' -type f -exec chmod 644 {} +`]);
}

/** The members of a gzip file: each is inflated on its own to find where it ends. */
function members(gz: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < gz.length;) {
    const { engine } = zlib.inflateRawSync(gz.subarray(pos + 10), { info: true }) as unknown as {
      engine: { bytesWritten: number };
    };
    const end = pos + 10 + engine.bytesWritten + 8;
    out.push(gz.subarray(pos, end));
    pos = end;
  }
  return out;
}

async function layer(entries: LayerEntry[], name: string, cacheDir?: string): Promise<WrittenLayer & { gz: Buffer }> {
  const file = join(tmp, name);
  const written = await writeLayer(entries, file, {
    epoch: EPOCH,
    ...(cacheDir ? { members: { dir: cacheDir } } : {}),
  });
  return { ...written, gz: await readFile(file) };
}

/** Member indexes whose bytes differ; both layers must have as many members. */
function changedMembers(a: Buffer, b: Buffer): number[] {
  const ma = members(a);
  const mb = members(b);
  expect(mb).toHaveLength(ma.length);
  return ma.flatMap((m, i) => (m.equals(mb[i]!) ? [] : [i]));
}

async function cacheFiles(dir: string): Promise<string[]> {
  const [format] = await readdir(dir);
  return (await readdir(join(dir, format!))).map((name) => join(dir, format!, name));
}

let base: WrittenLayer & { gz: Buffer };
beforeAll(async () => {
  tmp = await tempDir('members');
  tree = join(tmp, 'tree');
  await makeTree(tree);
  base = await layer(await entriesFromDirectory(tree, { owner }), 'base.tar.gz');
});
afterAll(() => removeDir(tmp));

describe('multi-member layers', () => {
  it('are members of about 1 MiB whose inflated bytes, in order, are the tar', async () => {
    const parts = members(base.gz);
    expect(parts.length).toBeGreaterThanOrEqual(8);
    const raw = parts.map((m) => zlib.inflateRawSync(m.subarray(10, m.length - 8)));
    // big.bin sorts first and is cut at 4 MiB offsets of its content; a member ends after it.
    const big = await readFile(join(tree, 'big.bin'));
    const MiB4 = 4 * 1024 * 1024;
    expect(raw[0]!.subarray(512).equals(big.subarray(0, MiB4))).toBe(true);
    expect(raw[1]!.equals(big.subarray(MiB4, 2 * MiB4))).toBe(true);
    expect(raw[2]!.equals(big.subarray(2 * MiB4))).toBe(true);
    // Other members end at the first entry past 4 MiB at the latest.
    expect(Math.max(...raw.map((r) => r.length))).toBeLessThanOrEqual(MiB4 + 4096);
    expect(sha256(Buffer.concat(raw))).toBe(base.diffId);
    expect(sha256(zlib.gunzipSync(base.gz))).toBe(base.diffId);
  });

  it('change in one member when one file is edited, however its content is read', async () => {
    const edit = join(tree, 'd7', 'f2007.txt');
    const before = await readFile(edit);
    try {
      await writeFile(edit, Buffer.from(before.toString().toUpperCase()));
      const edited = await layer(await entriesFromDirectory(tree, { owner }), 'edited.tar.gz');
      expect(changedMembers(base.gz, edited.gz)).toHaveLength(1);
      // A few bytes more, in the same 512-byte blocks: still one member.
      await writeFile(edit, Buffer.concat([before.subarray(0, before.length - 8), Buffer.from('appended')]));
      const grown = await layer(await entriesFromDirectory(tree, { owner }), 'grown.tar.gz');
      expect(changedMembers(base.gz, grown.gz)).toHaveLength(1);
    } finally {
      await writeFile(edit, before);
    }
    // One byte in the middle of the big file: only the member with that 4 MiB of it.
    const big = await readFile(join(tree, 'big.bin'));
    const entries = (await entriesFromDirectory(tree, { owner })).map((e) => {
      if (e.path !== 'big.bin') return e;
      const changed = Buffer.from(big);
      changed[6_000_000] = 0x21;
      return { ...e, content: () => Readable.from([changed.subarray(0, 3_000_000), changed.subarray(3_000_000)]) };
    });
    expect(changedMembers(base.gz, (await layer(entries, 'big-edit.tar.gz')).gz)).toHaveLength(1);
  });

  it('are the same bytes whether content comes from host files or from streams cut anywhere', async () => {
    const streamed = (await entriesFromDirectory(tree, { owner })).map((e) =>
      e.type === 'file' ? { ...e, content: () => createReadStream(join(tree, e.path), { highWaterMark: 777_777 }) } : e,
    );
    const again = await layer(streamed, 'streamed.tar.gz');
    expect(again.digest).toBe(base.digest);
    expect(again.gz.equals(base.gz)).toBe(true);
  });
});

describe('the member cache', () => {
  it('gives the same bytes cold, warm, and from another empty cache', async () => {
    const entries = await entriesFromDirectory(tree, { owner });
    const cache = join(tmp, 'cache-a');
    const cold = await layer(entries, 'cold.tar.gz', cache);
    expect(cold.gz.equals(base.gz)).toBe(true);
    const files = await cacheFiles(cache);
    // Members under 64 KiB (ISIZE, in the trailer) are not worth a file.
    const kept = members(base.gz).filter((m) => m.readUInt32LE(m.length - 4) >= 64 * 1024);
    expect(kept.length).toBeGreaterThan(members(base.gz).length / 2);
    expect(files).toHaveLength(kept.length);
    const warm = await layer(entries, 'warm.tar.gz', cache);
    expect(warm.gz.equals(base.gz)).toBe(true);
    expect(await cacheFiles(cache)).toEqual(files);
    const other = await layer(entries, 'other.tar.gz', join(tmp, 'cache-b'));
    expect(other).toEqual(cold);
  });

  it('copies cached members instead of deflating, and ignores files that are not the member', async () => {
    const entries = await entriesFromDirectory(tree, { owner });
    const cache = join(tmp, 'cache-c');
    await layer(entries, 'fill.tar.gz', cache);
    const [first, second] = (await cacheFiles(cache)).sort();
    // A member deflated at another level: still valid, so a hit shows as other bytes of the same tar.
    const member = await readFile(first!);
    const raw = zlib.inflateRawSync(member.subarray(10, member.length - 8));
    const relevel = Buffer.concat([
      member.subarray(0, 10),
      zlib.deflateRawSync(raw, { level: 1 }),
      member.subarray(member.length - 8),
    ]);
    expect(relevel.equals(member)).toBe(false);
    await writeFile(first!, relevel);
    // A truncated file fails the header and trailer check: deflated again.
    await writeFile(second!, (await readFile(second!)).subarray(0, 100));
    const hit = await layer(entries, 'hit.tar.gz', cache);
    expect(hit.diffId).toBe(base.diffId);
    expect(hit.digest).not.toBe(base.digest);
    expect(sha256(zlib.gunzipSync(hit.gz))).toBe(base.diffId);
    expect(changedMembers(base.gz, hit.gz)).toHaveLength(1);
    expect(hit.gz.includes(relevel)).toBe(true);
    // The truncated file was replaced by the real member.
    expect((await readFile(second!)).length).toBeGreaterThan(100);

    // A damaged body between a good header and trailer: inflated, found wrong, deflated again.
    const third = (await cacheFiles(cache)).sort()[2]!;
    const good = await readFile(third);
    const body = zlib.inflateRawSync(good.subarray(10, good.length - 8));
    body[0] = body[0]! ^ 0xff;
    await writeFile(
      third,
      Buffer.concat([good.subarray(0, 10), zlib.deflateRawSync(body), good.subarray(good.length - 8)]),
    );
    const healed = await layer(entries, 'healed.tar.gz', cache);
    expect(sha256(zlib.gunzipSync(healed.gz))).toBe(base.diffId);
    expect((await readFile(third)).equals(good)).toBe(true);
  });
});

describe('a large file', () => {
  /** Entries with a 100 KiB file between two small ones; `other` changes the small ones. */
  const around = (other: string): LayerEntry[] => [
    { path: 'app', type: 'dir', mode: 0o755, ...owner },
    fileEntry(`app/a-${other}.txt`, `${other} a\n`),
    fileEntry('app/bundle.js', text(7, 100 * 1024)),
    fileEntry(`app/z-${other}.txt`, `${other} z\n`),
  ];
  const fileEntry = (path: string, body: string): LayerEntry => ({
    path,
    type: 'file',
    mode: 0o644,
    ...owner,
    size: Buffer.byteLength(body),
    content: () => Readable.from([Buffer.from(body)]),
  });

  it('is a gzip member of its own, headers and content', async () => {
    const written = await layer(around('one'), 'own-member.tar.gz');
    const parts = members(written.gz).map((m) => zlib.gunzipSync(m));
    expect(parts).toHaveLength(3);
    expect(parts[1]!.subarray(0, 13).toString()).toBe('app/bundle.js');
    expect(parts[1]!.length).toBe(512 + 100 * 1024);
  });

  it('is deflated once for two layers that hold it, even written at once', async () => {
    const cache = join(tmp, 'cache-shared');
    const deflates = vi.spyOn(zlib, 'createDeflateRaw');
    try {
      const [a, b] = await Promise.all([
        layer(around('build'), 'shared-a.tar.gz', cache),
        layer(around('runtime'), 'shared-b.tar.gz', cache),
      ]);
      // Two small members each, and the shared one once.
      expect(deflates).toHaveBeenCalledTimes(5);
      expect(members(a.gz)[1]!.equals(members(b.gz)[1]!)).toBe(true);
      expect(await cacheFiles(cache)).toHaveLength(1);
    } finally {
      deflates.mockRestore();
    }
  });
});

describe('readers of multi-member layers', () => {
  it('gzip -t, tar -xzf, node gunzip and applyLayerAsLowerdir read the whole tree', async () => {
    const file = join(tmp, 'base.tar.gz');
    await sh('gzip', ['-t', file]);
    expect(`sha256:${(await sh('sh', ['-c', `gzip -dc '${file}' | sha256sum`])).split(' ')[0]}`).toBe(base.diffId);
    const expected = await describeTree(tree);
    const untarred = join(tmp, 'untarred');
    await mkdir(untarred);
    await sh('tar', ['-xzf', file, '-C', untarred]);
    expect(await describeTree(untarred)).toEqual(expected);
    expect(sha256(zlib.gunzipSync(base.gz))).toBe(base.diffId);
    if (!isRoot()) throw new Error('applyLayerAsLowerdir keeps owners and devices: run as root');
    const applied = join(tmp, 'applied');
    await applyLayerAsLowerdir(file, applied);
    expect(await describeTree(applied)).toEqual(expected);
  });

  it('umoci unpacks, skopeo inspects, and docker 20.10 loads an image made of one', async () => {
    if (!isRoot()) throw new Error('needs root and the bench (bash test/env/setup.sh)');
    const blobs = join(tmp, 'image-blobs');
    await mkdir(blobs);
    await rename(join(tmp, 'base.tar.gz'), join(blobs, base.digest.slice(7)));
    const config = serializeImageConfig(
      buildImageConfig({
        architecture: 'amd64',
        os: 'linux',
        epoch: EPOCH,
        config: { Cmd: ['/big.bin'] },
        diffIds: [base.diffId],
        history: [{ created_by: 'multi-member layer' }],
      }),
    );
    const manifest = serializeManifest(
      buildManifest(config.descriptor, [{ mediaType: base.mediaType, digest: base.digest, size: base.size }]),
    );
    const image: ImageSource = {
      manifest: manifest.bytes,
      config: config.bytes,
      blobs: (digest) => createReadStream(join(blobs, digest.slice(7))),
    };
    const tag = `drydock-oci-members:${randomBytes(4).toString('hex')}`;

    const layout = join(tmp, 'layout');
    await writeOciLayout(layout, image, { tags: [{ ref: 'v1', name: tag }] });
    const bundle = join(tmp, 'bundle');
    await sh('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    expect(await describeTree(join(bundle, 'rootfs'))).toEqual(await describeTree(tree));
    const inspected = JSON.parse(await sh('skopeo', ['inspect', `oci:${layout}:v1`]));
    expect(inspected.Layers).toEqual([base.digest]);

    const archive = join(tmp, 'image.docker.tar');
    await writeDockerArchive(archive, image, { tags: [{ ref: 'v1', name: tag }], epoch: EPOCH });
    try {
      expect(await sh(DOCKER, ['load', '-i', archive])).toContain(`Loaded image: ${tag}`);
      const [info] = JSON.parse(await sh(DOCKER, ['image', 'inspect', tag]));
      expect(info.RootFS.Layers).toEqual([base.diffId]);
      const id = (await sh(DOCKER, ['create', tag])).trim();
      try {
        const copied = await sh('sh', ['-c', `${DOCKER} cp ${id}:/big.bin - | tar -xO | sha256sum`]);
        expect(copied.split(' ')[0]).toBe(
          createHash('sha256')
            .update(await readFile(join(tree, 'big.bin')))
            .digest('hex'),
        );
      } finally {
        await sh(DOCKER, ['rm', id]);
      }
    } finally {
      await sh(DOCKER, ['rmi', '-f', tag]).catch(() => undefined);
    }
  });
});
