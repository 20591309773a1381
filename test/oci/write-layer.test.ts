import { createReadStream, statSync } from 'node:fs';
import { appendFile, chmod, link, mkdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entriesFromDirectory, hostFileContent, writeLayer, type LayerEntry } from '../../core/src/oci/index.js';
import { noise, removeDir, sh, tempDir } from './helpers.js';

// A layer's digests are part of every image built from it: a tree of a few thousand files, with files
// larger than the writer's buffers, must keep giving the same bytes however the writer gathers them.

const EPOCH = 1_700_000_000;
let tmp = '';
let tree = '';
beforeAll(async () => {
  tmp = await tempDir('write-layer');
  tree = join(tmp, 'tree');
  await makeTree(tree);
});
afterAll(() => removeDir(tmp));

/** Mulberry32: deterministic content without a clock or the host's randomness. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike'.split(' ');

function text(rand: () => number, size: number): string {
  let out = '';
  while (out.length < size) out += WORDS[Math.floor(rand() * WORDS.length)] + (rand() < 0.1 ? '\n' : ' ');
  return out.slice(0, size);
}

/** 3,000 small text files in 30 folders, two files larger than 1 MiB, block-sized and empty files, links. */
async function makeTree(root: string): Promise<void> {
  const rand = prng(42);
  for (let d = 0; d < 30; d++) await mkdir(join(root, `d${String(d).padStart(2, '0')}`), { recursive: true });
  for (let i = 0; i < 3000; i++) {
    const path = join(root, `d${String(i % 30).padStart(2, '0')}`, `f${String(i).padStart(4, '0')}.txt`);
    await writeFile(path, text(rand, Math.floor(rand() * 4000)));
  }
  await writeFile(join(root, 'big-text'), text(rand, 2_500_000));
  await writeFile(join(root, 'big-noise'), Buffer.concat([noise(1_200_000, 'n'), Buffer.from(text(rand, 900_000))]));
  await writeFile(join(root, 'block'), text(rand, 1024));
  await writeFile(join(root, 'empty'), '');
  await symlink('d00/f0000.txt', join(root, 'sym'));
  await link(join(root, 'block'), join(root, 'block-link'));
  // Modes as a build would set them, so the host's umask does not matter.
  await sh('sh', ['-c', `find '${root}' -type d -exec chmod 755 {} + && find '${root}' -type f -exec chmod 644 {} +`]);
  await chmod(join(root, 'big-noise'), 0o755);
}

const owner = { uid: 0, gid: 0 };

describe('writeLayer of a directory', () => {
  it('gives pinned digests, and the same bytes whether content is read from host files or streams', async () => {
    const fromHost = await writeLayer(await entriesFromDirectory(tree, { owner }), join(tmp, 'host.tar.gz'), {
      epoch: EPOCH,
    });
    // The diffID was pinned with the writer before its buffers were added (a stream per file, a chunk per
    // header); the digest when layers became multi-member gzip (members.ts).
    expect(fromHost.diffId).toBe('sha256:f2c7b1d1d4dc264f47d8c6fa0a24daa25ba322651bdb44a4d000ff203b66a698');
    expect(fromHost.digest).toBe('sha256:854922878c654a276f11c0cabb0d1a1ce512d1558da3b448271bf1a5209a867e');

    // The same entries with plain streams as content go through the general path.
    const streamed: LayerEntry[] = (await entriesFromDirectory(tree, { owner })).map((e) =>
      e.type === 'file' ? { ...e, content: () => createReadStream(join(tree, e.path)) } : e,
    );
    const fromStreams = await writeLayer(streamed, join(tmp, 'streams.tar.gz'), { epoch: EPOCH });
    expect(fromStreams).toEqual(fromHost);

    const tarSha = await sh('sh', ['-c', `gzip -dc '${join(tmp, 'host.tar.gz')}' | sha256sum`]);
    expect(`sha256:${tarSha.split(' ')[0]}`).toBe(fromHost.diffId);
    // tar prints mtimes in local time: read them as UTC.
    const listing = await sh('env', ['TZ=UTC', 'tar', '-tvzf', join(tmp, 'host.tar.gz')]);
    expect(listing.trim().split('\n')).toHaveLength(30 + 3000 + 6);
    expect(listing).toMatch(/hrw-r--r-- 0\/0 +0 2023-11-14 22:13 block-link link to block/);
  });

  it('fails when a file grew or shrank after the walk', async () => {
    const dir = join(tmp, 'changing');
    await mkdir(dir);
    await writeFile(join(dir, 'grows'), 'abc');
    let entries = await entriesFromDirectory(dir, { owner });
    await appendFile(join(dir, 'grows'), 'd');
    await expect(writeLayer(entries, join(tmp, 'grows.tar.gz'), { epoch: EPOCH })).rejects.toThrow(
      /grows: expected 3 bytes of content, read 4/,
    );
    await writeFile(join(dir, 'grows'), 'x'.repeat(3_000_000));
    entries = await entriesFromDirectory(dir, { owner });
    await truncate(join(dir, 'grows'), 2_000_000);
    await expect(writeLayer(entries, join(tmp, 'shrinks.tar.gz'), { epoch: EPOCH })).rejects.toThrow(
      /grows: expected 3000000 bytes of content, read 2000000/,
    );
  });

  it('fails when a file is no longer the one its content was hashed from, even at the same size', async () => {
    const dir = join(tmp, 'rewritten');
    await mkdir(dir);
    const file = join(dir, 'main.js');
    await writeFile(file, 'one');
    await writeFile(join(dir, 'empty'), '');
    const hashed = (path: string) => {
      const { ino, mtimeMs, ctimeMs } = statSync(path);
      return { ino, mtimeMs, ctimeMs };
    };
    const entries = (stats: Record<string, { ino: number; mtimeMs: number; ctimeMs: number }>): LayerEntry[] =>
      Object.entries(stats).map(([name, st]) => ({
        path: name,
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: statSync(join(dir, name)).size,
        content: hostFileContent(join(dir, name), st),
      }));
    const before = { 'main.js': hashed(file), empty: hashed(join(dir, 'empty')) };
    // Unchanged: written as usual.
    await writeLayer(entries(before), join(tmp, 'unchanged.tar.gz'), { epoch: EPOCH });
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(file, 'two');
    await expect(writeLayer(entries(before), join(tmp, 'rewritten.tar.gz'), { epoch: EPOCH })).rejects.toThrow(
      `layer entry main.js: ${file} changed while the build read it`,
    );
    await writeFile(join(dir, 'empty'), '');
    await expect(
      writeLayer(entries({ empty: before.empty }), join(tmp, 'empty.tar.gz'), { epoch: EPOCH }),
    ).rejects.toThrow(`layer entry empty: ${join(dir, 'empty')} changed while the build read it`);
  });

  it('fails, naming the file, when a file was removed after the walk', async () => {
    const dir = join(tmp, 'vanishing');
    await mkdir(dir);
    await writeFile(join(dir, 'images.lock.json.1a2b3c4d.tmp'), '{}');
    const entries = await entriesFromDirectory(dir, { owner });
    await rm(join(dir, 'images.lock.json.1a2b3c4d.tmp'));
    await expect(writeLayer(entries, join(tmp, 'vanishing.tar.gz'), { epoch: EPOCH })).rejects.toThrow(
      `layer entry images.lock.json.1a2b3c4d.tmp: ${dir}/images.lock.json.1a2b3c4d.tmp was removed while the build read it`,
    );
  });
});
