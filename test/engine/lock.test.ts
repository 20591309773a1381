/**
 * images.lock.json: base images pinned to digests, resolved in the real loopback registry (through
 * the docker.io mirror), reused without network, refreshed on request.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arg, compile, copy, defineConfig, image } from '@drydock/core';
import { emptyLock, imageUses, pinImages, readLock, serializeLock, writeLock } from '../../core/src/engine/lock.js';
import { RegistryClient } from '../../core/src/registry/index.js';

const dir = mkdtempSync(join(tmpdir(), 'drydock-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = defineConfig({
  args: { FLAVOR: arg.enum(['20-slim', '20'], { default: '20-slim' }) },
  images: {
    app: {
      stages: ({ args }) => ({
        tools: { from: image('busybox'), steps: [copy('/bin/busybox', '/busybox', { from: 'debian:bookworm-slim' })] },
        main: { from: `node:${args.FLAVOR}`, steps: [copy('/busybox', '/busybox', { from: 'tools' })] },
      }),
    },
  },
});

function client(requests: string[]): RegistryClient {
  return new RegistryClient({
    envMirrors: false,
    mirrors: { 'docker.io': ['http://127.0.0.1:5000'] },
    onRequest: (e) => requests.push(`${e.method} ${e.url}`),
  });
}

/** The digest skopeo reads for the same image: an independent reader of the registry. */
function skopeoDigest(repo: string): string {
  const out = execFileSync('skopeo', [
    'inspect',
    '--tls-verify=false',
    `docker://127.0.0.1:5000/library/${repo}`,
  ]).toString();
  return (JSON.parse(out) as { Digest: string }).Digest;
}

describe('images a graph reads', () => {
  it('are its bases and COPY --from images, with args expanded, stages excluded', () => {
    const { graph } = compile(config, { args: { FLAVOR: '20' } });
    expect(imageUses(graph, 'linux/amd64')).toEqual([
      { ref: 'busybox', platform: 'linux/amd64' },
      { ref: 'debian:bookworm-slim', platform: 'linux/amd64' },
      { ref: 'node:20', platform: 'linux/amd64' },
    ]);
  });
});

describe('pinning', () => {
  const { graph } = compile(config);
  const uses = imageUses(graph, 'linux/amd64');
  const file = join(dir, 'images.lock.json');

  it('resolves every image to the digest the registry serves, and writes a stable lock', async () => {
    const requests: string[] = [];
    const pinned = await pinImages({ uses, lock: await readLock(file), client: client(requests) });
    expect(pinned.changed).toBe(true);
    expect(pinned.lock.images).toEqual({
      'busybox linux/amd64': skopeoDigest('busybox:latest'),
      'debian:bookworm-slim linux/amd64': skopeoDigest('debian:bookworm-slim'),
      'node:20-slim linux/amd64': skopeoDigest('node:20-slim'),
    });
    await writeLock(file, pinned.lock);
    expect(readFileSync(file, 'utf8')).toBe(serializeLock(pinned.lock));
    expect(requests.length).toBeGreaterThan(0);
  });

  it('reuses the lock without touching the network, and reports no change', async () => {
    const requests: string[] = [];
    const before = readFileSync(file, 'utf8');
    const pinned = await pinImages({ uses, lock: await readLock(file), client: client(requests) });
    expect(requests).toEqual([]);
    expect(pinned.changed).toBe(false);
    expect(serializeLock(pinned.lock)).toBe(before);
  });

  it('keeps a pinned digest even when it differs from the tag now, until updated', async () => {
    const stale = { ...(await readLock(file)) };
    stale.images = { ...stale.images, 'busybox linux/amd64': `sha256:${'0'.repeat(64)}` };
    const kept = await pinImages({ uses, lock: stale, client: client([]) });
    expect(kept.digests.get('busybox linux/amd64')).toBe(`sha256:${'0'.repeat(64)}`);
    const updated = await pinImages({ uses, lock: stale, client: client([]), update: true });
    expect(updated.changed).toBe(true);
    expect(updated.digests.get('busybox linux/amd64')).toBe(skopeoDigest('busybox:latest'));
  });

  it('fails on an image the registry does not have, naming it', async () => {
    const missing = [{ ref: 'drydock-no-such-image:1', platform: 'linux/amd64' }];
    await expect(pinImages({ uses: missing, lock: emptyLock(), client: client([]) })).rejects.toThrow(
      /drydock-no-such-image/,
    );
  });

  it('keeps the pins another build wrote since this one read the lock', async () => {
    const shared = join(dir, 'shared.lock.json');
    const digest = (n: string) => `sha256:${n.repeat(64)}`;
    await writeLock(shared, { ...emptyLock(), images: { 'busybox linux/amd64': digest('1') } });
    // Two builds read that lock; one pins node, the other debian and a newer busybox.
    const first = await readLock(shared);
    const second = await readLock(shared);
    await writeLock(shared, { ...first, images: { ...first.images, 'node:20 linux/amd64': digest('2') } });
    const written = await writeLock(shared, {
      ...second,
      images: { ...second.images, 'debian linux/amd64': digest('3'), 'busybox linux/amd64': digest('4') },
    });
    const expected = {
      'busybox linux/amd64': digest('4'),
      'debian linux/amd64': digest('3'),
      'node:20 linux/amd64': digest('2'),
    };
    expect(written.images).toEqual(expected);
    expect(JSON.parse(readFileSync(shared, 'utf8'))).toEqual({ version: 1, images: expected });
  });

  it("is renamed into place from the store's temp directory: the project never lists a temp file", async () => {
    const project = mkdtempSync(join(dir, 'project-'));
    const storeTmp = mkdtempSync(join(dir, 'store-tmp-'));
    const shared = join(project, 'images.lock.json');
    const names = new Set<string>();
    const watcher = watch(project, (_event, name) => names.add(String(name)));
    try {
      await writeLock(
        shared,
        { ...emptyLock(), images: { 'busybox linux/amd64': `sha256:${'5'.repeat(64)}` } },
        storeTmp,
      );
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      watcher.close();
    }
    expect([...names]).toEqual(['images.lock.json']);
    expect(readdirSync(storeTmp)).toEqual([]);
  });

  it('is written beside itself when the temp directory is on another filesystem', async () => {
    const project = mkdtempSync(join(dir, 'project-'));
    const otherFs = mkdtempSync('/dev/shm/drydock-lock-');
    try {
      expect(statSync(otherFs).dev).not.toBe(statSync(project).dev);
      const images = { 'busybox linux/amd64': `sha256:${'6'.repeat(64)}` };
      await writeLock(join(project, 'images.lock.json'), { ...emptyLock(), images }, otherFs);
      expect((await readLock(join(project, 'images.lock.json'))).images).toEqual(images);
      expect(readdirSync(project)).toEqual(['images.lock.json']);
      expect(readdirSync(otherFs)).toEqual([]);
    } finally {
      rmSync(otherFs, { recursive: true, force: true });
    }
  });

  it('rejects a corrupt lock file with its name instead of replacing it', async () => {
    const bad = join(dir, 'bad.lock.json');
    writeFileSync(bad, '{ "version": 1, "images": { "busybox linux/amd64": "latest" } }');
    await expect(readLock(bad)).rejects.toThrow(`${bad}: images["busybox linux/amd64"] is not a sha256 digest`);
    writeFileSync(bad, '{ nope');
    await expect(readLock(bad)).rejects.toThrow(/not valid JSON/);
  });
});
