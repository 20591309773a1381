// Pull against the real bench registry 127.0.0.1:5000 (through DRYDOCK_REGISTRY_MIRRORS and
// directly), plus a real HTTP proxy in front of it that breaks or falsifies blob transfers.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError, MediaType, RegistryClient, type ResolvedImage } from '../../core/src/registry/index.js';
import { cleanupTempDirs, OPEN, sha256sum, startProxy, tempDir, type Proxy, rejection } from './helpers.js';

const fast = { attempts: 4, baseDelayMs: 20, maxDelayMs: 200 };
const proxies: Proxy[] = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
});
afterAll(cleanupTempDirs);

describe('pull busybox through the docker.io mirror', () => {
  let client: RegistryClient;
  let image: ResolvedImage;
  const saved = process.env.DRYDOCK_REGISTRY_MIRRORS;
  const requests: string[] = [];

  beforeAll(async () => {
    process.env.DRYDOCK_REGISTRY_MIRRORS = `docker.io=http://${OPEN}`;
    client = new RegistryClient({ retry: fast, onRequest: (e) => requests.push(`${e.method} ${e.url} ${e.status}`) });
    image = await client.resolve('busybox');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.DRYDOCK_REGISTRY_MIRRORS;
    else process.env.DRYDOCK_REGISTRY_MIRRORS = saved;
  });

  it('resolves `busybox` to the mirror addressed as /v2/library/busybox', () => {
    expect(image.reference).toEqual({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(image.source).toBe(`http://${OPEN}`);
    expect(requests[0]).toBe(`GET http://${OPEN}/v2/library/busybox/manifests/latest 200`);
    expect(image.mediaType).toBe(MediaType.OciManifest);
    expect(image.digest).toBe(`sha256:${createHash('sha256').update(image.manifestBytes).digest('hex')}`);
    expect(image.indexDigest).toBeUndefined();
    expect(image.manifest.layers.length).toBeGreaterThan(0);
  });

  it('a digest reference gives the same manifest', async () => {
    const again = await client.resolve(`busybox@${image.digest}`);
    expect(again.digest).toBe(image.digest);
    expect(again.manifestBytes.equals(image.manifestBytes)).toBe(true);
  });

  it('fetches config and layers to files whose sha256sum matches the descriptors', async () => {
    const dir = tempDir();
    for (const desc of [image.manifest.config, ...image.manifest.layers]) {
      const path = join(dir, desc.digest.replace(':', '-'));
      const out = await client.fetchBlobToFile('busybox', desc, path);
      expect(out.path).toBe(path);
      expect(sha256sum(path)).toBe(desc.digest);
    }
    expect(readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
    const config = JSON.parse((await client.fetchBlobBytes('busybox', image.manifest.config)).toString()) as {
      os: string;
      rootfs: { diff_ids: string[] };
    };
    expect(config.os).toBe('linux');
    expect(config.rootfs.diff_ids).toHaveLength(image.manifest.layers.length);
  });

  it('fetchBlob streams verified bytes', async () => {
    const layer = image.manifest.layers[0]!;
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of client.fetchBlob('busybox', layer) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    expect(`sha256:${hash.digest('hex')}`).toBe(layer.digest);
    expect(size).toBe(layer.size);
  });

  it('a descriptor with the wrong size is rejected and leaves no file', async () => {
    const dir = tempDir();
    const layer = image.manifest.layers[0]!;
    const path = join(dir, 'layer');
    const tooSmall = await rejection(client.fetchBlobToFile('busybox', { ...layer, size: layer.size - 1 }, path));
    expect(isRegistryError(tooSmall, 'ESIZE')).toBe(true);
    const tooBig = await rejection(client.fetchBlobToFile('busybox', { ...layer, size: layer.size + 1 }, path));
    expect(isRegistryError(tooBig, 'ESIZE')).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an unknown digest is not found on the mirror nor upstream, and leaves no file', async () => {
    const dir = tempDir();
    const path = join(dir, 'blob');
    // The upstream is a closed loopback port (refused at once); its mirror is the real :5000.
    const dead = await startProxy(OPEN);
    const upstream = dead.host;
    await dead.close();
    const client1 = new RegistryClient({
      envMirrors: false,
      retry: { attempts: 1 },
      mirrors: { [upstream]: [`http://${OPEN}`] },
    });
    const error = await rejection(
      client1.fetchBlobToFile(`${upstream}/library/busybox`, { digest: `sha256:${'0'.repeat(64)}`, size: 3 }, path),
    );
    expect(isRegistryError(error, 'ENETWORK')).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.message.startsWith(`http://${upstream}: GET failed after 1 attempt(s): fetch failed`)).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(
      `(after mirrors: http://${OPEN}: blob library/busybox@sha256:${'0'.repeat(64)}: HTTP 404: BLOB_UNKNOWN`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('with DRYDOCK_REGISTRY_MIRRORS unset, busybox goes to registry-1.docker.io', () => {
    expect(new RegistryClient({ envMirrors: false }).endpoints('busybox').map((e) => e.base)).toEqual([
      'https://registry-1.docker.io',
    ]);
    expect(new RegistryClient().endpoints('ghcr.io/a/b').map((e) => e.base)).toEqual(['https://ghcr.io']);
    expect(
      new RegistryClient({ insecure: ['reg.internal:5000'] }).endpoints('reg.internal:5000/a').map((e) => e.base),
    ).toEqual(['http://reg.internal:5000']);
  });

  it('a dead mirror falls through to the next one', async () => {
    const dead = await startProxy(OPEN);
    const deadUrl = `http://${dead.host}`;
    await dead.close();
    const c = new RegistryClient({
      envMirrors: false,
      retry: fast,
      mirrors: { 'docker.io': [deadUrl, `http://${OPEN}`] },
    });
    const again = await c.resolve('busybox');
    expect(again.digest).toBe(image.digest);
    expect(again.source).toBe(`http://${OPEN}`);
  });
});

describe('blob verification and resume through a misbehaving proxy in front of :5000', () => {
  let image: ResolvedImage;
  beforeAll(async () => {
    image = await new RegistryClient({ envMirrors: false }).resolve(`${OPEN}/library/busybox:latest`);
  });

  it('bytes that do not hash to the digest are rejected (EDIGEST) and leave no file', async () => {
    const layer = image.manifest.layers[0]!;
    const config = image.manifest.config;
    // Asking for the config digest yields the layer's bytes.
    const proxy = await startProxy(OPEN, { swap: { from: config.digest, to: layer.digest } });
    proxies.push(proxy);
    const dir = tempDir();
    const path = join(dir, 'config.json');
    const client = new RegistryClient({ retry: fast });
    const error = await rejection(
      client.fetchBlobToFile(`${proxy.host}/library/busybox`, { digest: config.digest, size: layer.size }, path),
    );
    expect(isRegistryError(error, 'EDIGEST')).toBe(true);
    expect(error.message).toContain(`content hashes to ${layer.digest}`);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
    // The stream form errors too.
    const streamError = await rejection(
      (async () => {
        for await (const _ of client.fetchBlob(`${proxy.host}/library/busybox`, {
          digest: config.digest,
          size: layer.size,
        }));
      })(),
    );
    expect(isRegistryError(streamError, 'EDIGEST')).toBe(true);
  });

  it('a transfer cut halfway resumes with Range and the file verifies', async () => {
    const proxy = await startProxy(OPEN, { cutFirstBlobAt: 0.5 });
    proxies.push(proxy);
    const layer = image.manifest.layers[0]!;
    const dir = tempDir();
    const path = join(dir, 'layer.tar.gz');
    const seen: string[] = [];
    const client = new RegistryClient({
      retry: fast,
      onRequest: (e) => seen.push(`${e.method} ${e.status} ${e.range ?? ''}`),
    });
    await client.fetchBlobToFile(`${proxy.host}/library/busybox`, layer, path);
    expect(proxy.cuts).toBe(1);
    const ranged = proxy.requests.filter((r) => r.range !== undefined);
    expect(ranged).toHaveLength(1);
    const from = Number(/^bytes=(\d+)-$/.exec(ranged[0]!.range!)![1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThan(layer.size);
    expect(seen).toContain(`GET 206 bytes=${from}-`);
    expect(sha256sum(path)).toBe(layer.digest);
    expect(readdirSync(dir)).toEqual(['layer.tar.gz']);
  });

  it('the stream form resumes too', async () => {
    const proxy = await startProxy(OPEN, { cutFirstBlobAt: 0.3 });
    proxies.push(proxy);
    const layer = image.manifest.layers[0]!;
    const client = new RegistryClient({ retry: fast });
    const hash = createHash('sha256');
    for await (const chunk of client.fetchBlob(`${proxy.host}/library/busybox`, layer) as AsyncIterable<Buffer>) {
      hash.update(chunk);
    }
    expect(`sha256:${hash.digest('hex')}`).toBe(layer.digest);
    expect(proxy.requests.filter((r) => r.range !== undefined)).toHaveLength(1);
  });

  it('5xx and 429 answers are retried with backoff (Retry-After honoured)', async () => {
    const flaky = await startProxy(OPEN, { failFirst: { count: 2, status: 503 } });
    proxies.push(flaky);
    const got = await new RegistryClient({ retry: fast }).resolve(`${flaky.host}/library/busybox:latest`);
    expect(got.digest).toBe(image.digest);
    expect(flaky.requests).toHaveLength(3);

    const limited = await startProxy(OPEN, { failFirst: { count: 1, status: 429, headers: { 'retry-after': '0' } } });
    proxies.push(limited);
    const layer = image.manifest.layers[0]!;
    const dir = tempDir();
    await new RegistryClient({ retry: fast }).fetchBlobToFile(`${limited.host}/library/busybox`, layer, join(dir, 'l'));
    expect(sha256sum(join(dir, 'l'))).toBe(layer.digest);
    expect(limited.requests).toHaveLength(2);
  });

  it('gives up after the configured attempts with a one-line error', async () => {
    const down = await startProxy(OPEN, { failFirst: { count: 100, status: 502 } });
    proxies.push(down);
    const error = await rejection(new RegistryClient({ retry: fast }).resolve(`${down.host}/library/busybox:latest`));
    expect(error.message).toBe(`http://${down.host}: manifest library/busybox:latest: HTTP 502`);
    expect(down.requests).toHaveLength(fast.attempts);
  });
});
