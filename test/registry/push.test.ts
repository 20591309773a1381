// Push to the real bench registry 127.0.0.1:5001 (basic auth) from 127.0.0.1:5000, pull back,
// read with skopeo; skip-existing, cross-repo mount, chunked upload, manifest lists, credentials.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostPlatform,
  isRegistryError,
  MediaType,
  RegistryClient,
  type Descriptor,
  type ImageIndex,
  type ResolvedImage,
} from '../../core/src/registry/index.js';
import {
  AUTH,
  basicAuth,
  cleanupTempDirs,
  dockerConfigDir,
  OPEN,
  PASSWORD,
  RUN_ID,
  sha256sum,
  tempDir,
  USER,
  rejection,
} from './helpers.js';

const fast = { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 };
const SRC = `${OPEN}/library/busybox:latest`;
const REPO = `drydock-test/busybox-${RUN_ID}`;
const DST = `${AUTH}/${REPO}:v1`;
const goodConfig = () => dockerConfigDir({ auths: { [AUTH]: { auth: basicAuth(USER, PASSWORD) } } });

interface Event {
  method: string;
  url: string;
  status?: number;
}
const uploads = (events: Event[]) => events.filter((e) => /\/blobs\/uploads\//.test(e.url) && e.method !== 'HEAD');

function skopeoInspect(ref: string): { Digest: string; Layers: string[]; Architecture: string } {
  const r = spawnSync(
    'skopeo',
    ['inspect', '--tls-verify=false', '--creds', `${USER}:${PASSWORD}`, `docker://${ref}`],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`skopeo inspect ${ref}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { Digest: string; Layers: string[]; Architecture: string };
}

const source = new RegistryClient({ envMirrors: false, retry: fast });
let image: ResolvedImage;
const blobsOf = (img: ResolvedImage): Descriptor[] => [img.manifest.config, ...img.manifest.layers];

async function copy(client: RegistryClient, dst: string, options: { mountFrom?: string } = {}) {
  const outcomes = [];
  for (const desc of blobsOf(image)) {
    outcomes.push((await client.pushBlob(dst, desc, () => source.fetchBlob(SRC, desc), options)).outcome);
  }
  const digest = await client.pushManifest(dst, image.manifestBytes, image.mediaType);
  return { outcomes, digest };
}

beforeAll(async () => {
  image = await source.resolve(SRC);
});
afterAll(cleanupTempDirs);

describe(`push busybox from ${OPEN} to ${AUTH}`, () => {
  const events: Event[] = [];
  let client: RegistryClient;
  beforeAll(() => {
    client = new RegistryClient({
      envMirrors: false,
      retry: fast,
      dockerConfig: goodConfig(),
      onRequest: (e) => events.push(e),
    });
  });

  it('uploads every blob and the manifest; the digest is the source digest', async () => {
    const { outcomes, digest } = await copy(client, DST);
    expect(digest).toBe(image.digest);
    expect(outcomes).toEqual(blobsOf(image).map(() => 'uploaded'));
    // One POST + one monolithic PUT per blob.
    const ups = uploads(events);
    expect(ups.filter((e) => e.method === 'PUT' && e.status === 201)).toHaveLength(blobsOf(image).length);
    // Credentials were sent after the registry's Basic challenge, not before.
    expect(events.some((e) => e.status === 401)).toBe(true);
  });

  it('pulls it back from :5001 with the same digests', async () => {
    const back = await client.resolve(DST);
    expect(back.digest).toBe(image.digest);
    expect(back.manifestBytes.equals(image.manifestBytes)).toBe(true);
    const dir = tempDir();
    for (const desc of blobsOf(back)) {
      const path = join(dir, desc.digest.slice(7));
      await client.fetchBlobToFile(DST, desc, path);
      expect(sha256sum(path)).toBe(desc.digest);
    }
  });

  it('skopeo reads it', () => {
    const info = skopeoInspect(DST);
    expect(info.Digest).toBe(image.digest);
    expect(info.Layers).toEqual(image.manifest.layers.map((l) => l.digest));
  });

  it('pushing the same again uploads nothing', async () => {
    events.length = 0;
    const { outcomes, digest } = await copy(client, DST);
    expect(digest).toBe(image.digest);
    expect(outcomes).toEqual(blobsOf(image).map(() => 'exists'));
    expect(uploads(events)).toEqual([]);
    expect(events.filter((e) => e.method === 'HEAD').length).toBe(blobsOf(image).length);
  });

  it('a cross-repo mount within :5001 answers 201 and sends no bytes', async () => {
    events.length = 0;
    const target = `${AUTH}/drydock-test/mounted-${RUN_ID}:v1`;
    const { outcomes, digest } = await copy(client, target, { mountFrom: REPO });
    expect(outcomes).toEqual(blobsOf(image).map(() => 'mounted'));
    expect(digest).toBe(image.digest);
    const ups = uploads(events);
    expect(ups.map((e) => `${e.method} ${e.status}`)).toEqual(blobsOf(image).map(() => 'POST 201'));
    expect(skopeoInspect(target).Digest).toBe(image.digest);
  });

  it('a mount from a repository without the blob falls back to an upload', async () => {
    events.length = 0;
    const target = `${AUTH}/drydock-test/fallback-${RUN_ID}:v1`;
    const { outcomes } = await copy(client, target, { mountFrom: `drydock-test/nothing-${RUN_ID}` });
    expect(outcomes).toEqual(blobsOf(image).map(() => 'uploaded'));
    const ups = uploads(events).map((e) => `${e.method} ${e.status}`);
    expect(ups.filter((u) => u === 'POST 202')).toHaveLength(blobsOf(image).length);
    expect(ups.filter((u) => u === 'PUT 201')).toHaveLength(blobsOf(image).length);
  });

  it('chunked upload (PATCH pieces, then PUT ?digest=) gives the same blobs', async () => {
    const chunkEvents: Event[] = [];
    const chunked = new RegistryClient({
      envMirrors: false,
      retry: fast,
      dockerConfig: goodConfig(),
      chunkSize: 256 * 1024,
      onRequest: (e) => chunkEvents.push(e),
    });
    const target = `${AUTH}/drydock-test/chunked-${RUN_ID}:v1`;
    const { outcomes, digest } = await copy(chunked, target);
    expect(outcomes).toEqual(blobsOf(image).map(() => 'uploaded'));
    expect(digest).toBe(image.digest);
    const layer = image.manifest.layers[0]!;
    const patches = chunkEvents.filter((e) => e.method === 'PATCH' && e.status === 202);
    expect(patches.length).toBe(Math.ceil(layer.size / (256 * 1024)));
    const dir = tempDir();
    await chunked.fetchBlobToFile(target, layer, join(dir, 'layer'));
    expect(sha256sum(join(dir, 'layer'))).toBe(layer.digest);
  });

  it('a manifest list is resolved by platform, with a clear error listing platforms', async () => {
    const host = hostPlatform();
    const other =
      host.architecture === 'arm64'
        ? { os: 'linux', architecture: 'amd64' }
        : { os: 'linux', architecture: 'arm64', variant: 'v8' };
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { mediaType: image.mediaType, digest: image.digest, size: image.manifestBytes.length, platform: other },
        { mediaType: image.mediaType, digest: image.digest, size: image.manifestBytes.length, platform: host },
      ],
    };
    const bytes = Buffer.from(JSON.stringify(index));
    const indexDigest = await client.pushManifest(`${AUTH}/${REPO}:multi`, bytes, MediaType.OciIndex);
    const resolved = await client.resolve(`${AUTH}/${REPO}:multi`);
    expect(resolved.indexDigest).toBe(indexDigest);
    expect(resolved.digest).toBe(image.digest);
    expect(resolved.manifest.layers).toEqual(image.manifest.layers);
    const byDigest = await client.resolve(`${AUTH}/${REPO}@${indexDigest}`, { platform: other });
    expect(byDigest.digest).toBe(image.digest);
    const error = await rejection(
      client.resolve(`${AUTH}/${REPO}:multi`, { platform: { os: 'linux', architecture: 's390x' } }),
    );
    expect(isRegistryError(error, 'EPLATFORM')).toBe(true);
    expect(error.message).toBe(
      `${AUTH}/${REPO}:multi: no manifest for linux/s390x (available: ${[other, host]
        .map((p) => `${p.os}/${p.architecture}${'variant' in p && p.variant ? `/${p.variant}` : ''}`)
        .join(', ')})`,
    );
  });

  it('pushManifest by digest, and refuses bytes that do not match the digest', async () => {
    const d = await client.pushManifest(`${AUTH}/${REPO}@${image.digest}`, image.manifestBytes, image.mediaType);
    expect(d).toBe(image.digest);
    const error = await rejection(
      client.pushManifest(
        `${AUTH}/${REPO}@${image.digest}`,
        Buffer.from(image.manifestBytes.toString() + ' '),
        image.mediaType,
      ),
    );
    expect(isRegistryError(error, 'EDIGEST')).toBe(true);
  });
});

describe(`credentials for ${AUTH}`, () => {
  it('a wrong password is a one-line error naming the registry, without the password', async () => {
    const client = new RegistryClient({
      envMirrors: false,
      retry: fast,
      dockerConfig: dockerConfigDir({ auths: { [AUTH]: { username: USER, password: 'wrong-secret-pw' } } }),
    });
    const error = await rejection(client.resolve(`${AUTH}/${REPO}:v1`));
    expect(isRegistryError(error, 'EAUTH_REJECTED')).toBe(true);
    expect(error.message).toBe(`${AUTH}: credentials for user "drydock" were rejected (HTTP 401)`);
    expect(error.message).not.toContain('wrong-secret-pw');
    const push = await rejection(
      client.pushBlob(`${AUTH}/${REPO}:v1`, image.manifest.config, () => source.fetchBlob(SRC, image.manifest.config)),
    );
    expect(isRegistryError(push, 'EAUTH_REJECTED')).toBe(true);
  });

  it('no credentials at all says where it looked', async () => {
    const dir = dockerConfigDir({ auths: {} });
    const error = await rejection(
      new RegistryClient({ envMirrors: false, dockerConfig: dir }).resolve(`${AUTH}/${REPO}:v1`),
    );
    expect(isRegistryError(error, 'EAUTH_REQUIRED')).toBe(true);
    expect(error.message).toBe(
      `${AUTH}: authentication required and no credentials found (looked in ${join(dir, 'config.json')})`,
    );
  });

  it('DOCKER_CONFIG selects the config dir; username/password entries work', async () => {
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dockerConfigDir({
      auths: { [`http://${AUTH}`]: { username: USER, password: PASSWORD } },
    });
    try {
      expect((await new RegistryClient({ envMirrors: false }).resolve(`${AUTH}/${REPO}:v1`)).digest).toBe(image.digest);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  });

  it('Docker Hub credentials are found under https://index.docker.io/v1/ whatever name the reference uses', async () => {
    const client = new RegistryClient({
      envMirrors: false,
      dockerConfig: dockerConfigDir({
        auths: { 'https://index.docker.io/v1/': { auth: basicAuth('hubuser', 'hubpw') } },
      }),
    });
    for (const name of ['docker.io', 'index.docker.io', 'registry-1.docker.io']) {
      expect(await client.credentials.get(name)).toEqual({ username: 'hubuser', password: 'hubpw' });
    }
    expect(await client.credentials.get(AUTH)).toBeUndefined();
  });

  it('explicit credentials override the docker config', async () => {
    const client = new RegistryClient({
      envMirrors: false,
      dockerConfig: dockerConfigDir({ auths: { [AUTH]: { auth: basicAuth(USER, 'stale') } } }),
      credentials: { [AUTH]: { username: USER, password: PASSWORD } },
    });
    expect((await client.resolve(`${AUTH}/${REPO}:v1`)).digest).toBe(image.digest);
  });

  describe('credential helpers', () => {
    const savedPath = process.env.PATH;
    let log: string;
    beforeAll(() => {
      const bin = join(tempDir('drydock-helper-'), 'bin');
      mkdirSync(bin);
      log = join(bin, '..', 'calls.log');
      const script = join(bin, 'docker-credential-drydocktest');
      writeFileSync(
        script,
        [
          '#!/bin/sh',
          '[ "$1" = get ] || exit 2',
          'read -r server',
          `echo "$server" >> '${log}'`,
          `if [ "$server" = '${AUTH}' ]; then`,
          `  printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"`,
          'else',
          '  echo "credentials not found in native keychain"; exit 1',
          'fi',
          '',
        ].join('\n'),
      );
      chmodSync(script, 0o755);
      process.env.PATH = `${bin}:${savedPath}`;
    });
    afterAll(() => {
      process.env.PATH = savedPath;
    });

    it('credsStore: docker-credential-drydocktest get is run with the server on stdin', async () => {
      writeFileSync(log, '');
      const client = new RegistryClient({
        envMirrors: false,
        dockerConfig: dockerConfigDir({ credsStore: 'drydocktest' }),
      });
      expect((await client.resolve(`${AUTH}/${REPO}:v1`)).digest).toBe(image.digest);
      expect(readFileSync(log, 'utf8')).toBe(`${AUTH}\n`);
    });

    it('credHelpers per registry win over auths', async () => {
      writeFileSync(log, '');
      const client = new RegistryClient({
        envMirrors: false,
        dockerConfig: dockerConfigDir({
          credHelpers: { [AUTH]: 'drydocktest' },
          auths: { [AUTH]: { auth: basicAuth(USER, 'stale') } },
        }),
      });
      expect((await client.resolve(`${AUTH}/${REPO}:v1`)).digest).toBe(image.digest);
      expect(readFileSync(log, 'utf8')).toBe(`${AUTH}\n`);
    });

    it('a helper that has nothing falls back to auths; a missing helper is a clear error', async () => {
      writeFileSync(log, '');
      const fallback = new RegistryClient({
        envMirrors: false,
        dockerConfig: dockerConfigDir({ credsStore: 'drydocktest', auths: { 'other.example': {} } }),
      });
      expect(await fallback.credentials.get('other.example')).toBeUndefined();
      expect(await fallback.credentials.get('docker.io')).toBeUndefined();
      expect(readFileSync(log, 'utf8')).toBe('other.example\nhttps://index.docker.io/v1/\n');
      const missing = new RegistryClient({
        envMirrors: false,
        dockerConfig: dockerConfigDir({ credsStore: 'nosuchhelper' }),
      });
      const error = await rejection(missing.resolve(`${AUTH}/${REPO}:v1`));
      expect(isRegistryError(error, 'ECREDENTIALS')).toBe(true);
      expect(error.message).toMatch(/^credential helper docker-credential-nosuchhelper could not run: .*ENOENT/);
    });
  });
});
