// pushImage against the bench registries: 127.0.0.1:5000 (open) and :5001 (basic auth), read back
// with skopeo and umoci; skip-existing, cross-repo mounts, several repositories in one call, abort.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExportError, pushImage, type PushProgressEvent } from '../../core/src/export/index.js';
import { isRegistryError, RegistryClient } from '../../core/src/registry/index.js';
import {
  AUTH,
  basicAuth,
  BUSYBOX,
  buildTestImage,
  cleanupTempDirs,
  dockerConfigDir,
  OPEN,
  PASSWORD,
  rejection,
  RUN_ID,
  sh,
  skopeoInspect,
  tempDir,
  USER,
  type TestImage,
} from './helpers.js';

const fast = { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 };
const REPO = `drydock-test/export-${RUN_ID}`;
let image: TestImage;
const open = new RegistryClient({ envMirrors: false, retry: fast });
const states = (events: PushProgressEvent[]) =>
  Object.fromEntries(events.map((e) => [e.digest, e.state])) as Record<string, string>;
const every = (state: string) => Object.fromEntries(image.blobDigests.map((d) => [d, state]));

beforeAll(async () => {
  image = await buildTestImage();
});
afterAll(cleanupTempDirs);

describe(`push to ${OPEN}`, () => {
  const ref = `${OPEN}/${REPO}:v1`;

  it('uploads config and layers (mounting the base layer from busybox), then tags v1 and v2', async () => {
    const events: PushProgressEvent[] = [];
    const result = await pushImage({
      client: open,
      image,
      refs: [ref, `${OPEN}/${REPO}:v2`],
      mountFrom: [BUSYBOX],
      onProgress: (e) => events.push(e),
    });
    expect(result).toEqual({ digest: image.digest, refs: [ref, `${OPEN}/${REPO}:v2`] });
    expect(states(events)).toEqual({
      [image.configDigest]: 'uploaded',
      [image.baseLayer]: 'mounted',
      [image.appLayer]: 'uploaded',
    });
    expect(events).toHaveLength(3);
    const mounted = events.find((e) => e.state === 'mounted')!;
    expect(mounted).toMatchObject({
      repository: `${OPEN}/${REPO}`,
      mountedFrom: `${OPEN}/library/busybox`,
      kind: 'layer',
    });
    expect(events.find((e) => e.kind === 'config')!.digest).toBe(image.configDigest);
  });

  it('skopeo inspect sees the manifest digest, the layers and both tags', () => {
    const info = skopeoInspect(`docker://${ref}`);
    expect(info.Digest).toBe(image.digest);
    expect(info.Layers).toEqual([image.baseLayer, image.appLayer]);
    expect([...(info.RepoTags ?? [])].sort()).toEqual(['v1', 'v2']);
    expect(skopeoInspect(`docker://${OPEN}/${REPO}:v2`).Digest).toBe(image.digest);
  });

  it('skopeo copy to an OCI dir and umoci unpack give busybox plus /app/hello.txt', async () => {
    const dir = tempDir();
    await sh('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'oci')}:v1`]);
    await sh('umoci', ['unpack', '--image', `${join(dir, 'oci')}:v1`, join(dir, 'bundle')]);
    expect(readFileSync(join(dir, 'bundle/rootfs/app/hello.txt'), 'utf8')).toBe(image.hello);
    expect(readFileSync(join(dir, 'bundle/rootfs/bin/busybox')).length).toBeGreaterThan(100_000);
  });

  it('pushing again finds every blob and sends none', async () => {
    const events: PushProgressEvent[] = [];
    image.opened.clear();
    const result = await pushImage({ client: open, image, refs: [ref], onProgress: (e) => events.push(e) });
    expect(result.digest).toBe(image.digest);
    expect(states(events)).toEqual(every('exists'));
    expect(image.opened.size).toBe(0);
  });

  it('a push to another repository mounts every blob from the first', async () => {
    const events: PushProgressEvent[] = [];
    image.opened.clear();
    const other = `${OPEN}/drydock-test/export-mounted-${RUN_ID}:latest`;
    await pushImage({ client: open, image, refs: [other], mountFrom: [ref], onProgress: (e) => events.push(e) });
    expect(states(events)).toEqual(every('mounted'));
    expect(image.opened.size).toBe(0);
    expect(skopeoInspect(`docker://${other}`).Digest).toBe(image.digest);
  });

  it('several repositories in one call: the second mounts from the first, without being told', async () => {
    const events: PushProgressEvent[] = [];
    const a = `${OPEN}/drydock-test/export-a-${RUN_ID}:1`;
    const b = `${OPEN}/drydock-test/export-b-${RUN_ID}:1`;
    const result = await pushImage({ client: open, image, refs: [a, b], onProgress: (e) => events.push(e) });
    expect(result.refs).toEqual([a, b]);
    const inB = events.filter((e) => e.repository === `${OPEN}/drydock-test/export-b-${RUN_ID}`);
    expect(states(inB)).toEqual(every('mounted'));
    for (const r of [a, b]) expect(skopeoInspect(`docker://${r}`).Digest).toBe(image.digest);
  });

  it('an aborted signal stops before the manifest: the tag is never created', async () => {
    const controller = new AbortController();
    const tag = `${OPEN}/drydock-test/export-aborted-${RUN_ID}:v1`;
    const error = await rejection(
      pushImage({
        client: open,
        image,
        refs: [tag],
        concurrency: 1,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }),
    );
    expect(error.name).toBe('AbortError');
    expect(isRegistryError(await rejection(open.resolve(tag)), 'ENOTFOUND')).toBe(true);
    const before = new AbortController();
    before.abort();
    expect((await rejection(pushImage({ client: open, image, refs: [tag], signal: before.signal }))).name).toBe(
      'AbortError',
    );
  });

  it('bad references are ExportErrors (ETAG) naming the reference', async () => {
    const error = await rejection(pushImage({ client: open, image, refs: [`${OPEN}/Bad/Name:v1`] }));
    expect(isExportError(error, 'ETAG')).toBe(true);
    expect(error.message).toBe(
      `push: invalid image reference "${OPEN}/Bad/Name:v1": repository names must be lowercase`,
    );
    expect(isExportError(await rejection(pushImage({ client: open, image, refs: [] })), 'ETAG')).toBe(true);
  });
});

describe(`push to ${AUTH} (basic auth)`, () => {
  const ref = `${AUTH}/${REPO}:v1`;

  it('with credentials from a DOCKER_CONFIG dir: uploads, and skopeo reads it back', async () => {
    const client = new RegistryClient({
      envMirrors: false,
      retry: fast,
      dockerConfig: dockerConfigDir({ auths: { [AUTH]: { auth: basicAuth(USER, PASSWORD) } } }),
    });
    const events: PushProgressEvent[] = [];
    // busybox is on the other registry: the mount candidate is ignored, everything is uploaded.
    const result = await pushImage({
      client,
      image,
      refs: [ref],
      mountFrom: [BUSYBOX],
      onProgress: (e) => events.push(e),
    });
    expect(result.digest).toBe(image.digest);
    expect(states(events)).toEqual(every('uploaded'));
    const info = skopeoInspect(`docker://${ref}`, `${USER}:${PASSWORD}`);
    expect(info.Digest).toBe(image.digest);
    expect(info.Layers).toEqual([image.baseLayer, image.appLayer]);
  });

  it('with the client credentials option: a second push finds everything', async () => {
    const client = new RegistryClient({
      envMirrors: false,
      retry: fast,
      dockerConfig: dockerConfigDir({ auths: {} }),
      credentials: { [AUTH]: { username: USER, password: PASSWORD } },
    });
    const events: PushProgressEvent[] = [];
    await pushImage({ client, image, refs: [ref], onProgress: (e) => events.push(e) });
    expect(states(events)).toEqual(every('exists'));
  });

  it('a wrong password is the registry client error, without the password', async () => {
    const client = new RegistryClient({
      envMirrors: false,
      retry: fast,
      credentials: { [AUTH]: { username: USER, password: 'wrong-secret-pw' } },
    });
    const error = await rejection(pushImage({ client, image, refs: [ref] }));
    expect(isRegistryError(error, 'EAUTH_REJECTED')).toBe(true);
    expect(error.message).not.toContain('wrong-secret-pw');
  });
});
