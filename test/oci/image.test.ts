import { randomBytes } from 'node:crypto';
import { copyFile, chmod, mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildImageConfig,
  buildManifest,
  entriesFromDirectory,
  serializeImageConfig,
  serializeManifest,
  sha256,
  writeDockerArchive,
  writeLayer,
  writeOciArchive,
  writeOciLayout,
  type ImageSource,
  type LayerEntry,
  type WrittenLayer,
} from '../../core/src/oci/index.js';
import { describeTree, dirEntry as dir, fileEntry as file, isRoot, removeDir, sh, tempDir } from './helpers.js';

// A whole image end to end: busybox rootfs + a second layer with every kind of change, read back by
// umoci, skopeo and docker 20.10 (the bench: `bash test/env/setup.sh`; root).
const EPOCH = 1_700_000_000;
const DOCKER = '/usr/bin/docker';
const TAG = `drydock-oci-test:${randomBytes(4).toString('hex')}`;
let tmp = '';
let image: ImageSource;
let manifestDigest = '';

async function busyboxRootfs(root: string): Promise<void> {
  for (const d of ['bin', 'etc', 'home', 'opt/replaced', 'tmp']) await mkdir(join(root, d), { recursive: true });
  await copyFile('/bin/busybox', join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  for (const tool of ['sh', 'ls', 'cat', 'id', 'stat', 'true']) await symlink('busybox', join(root, 'bin', tool));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\n');
  await writeFile(join(root, 'etc/old-motd'), 'to be deleted\n');
  await writeFile(join(root, 'opt/replaced/old'), 'old\n');
  await chmod(join(root, 'tmp'), 0o1777);
  for (const d of ['bin', 'etc', 'home', 'opt', 'opt/replaced']) await chmod(join(root, d), 0o755);
  for (const f of ['etc/passwd', 'etc/group', 'etc/old-motd', 'opt/replaced/old']) await chmod(join(root, f), 0o644);
}

const layer2: LayerEntry[] = [
  dir('app'),
  file('app/hello.txt', 'hello from layer 2\n'),
  { path: 'app/link', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: 'hello.txt' },
  { path: 'app/hard', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, linkname: 'app/hello.txt' },
  dir('home'),
  dir('home/app', { mode: 0o700, uid: 1000, gid: 1000 }),
  file('home/app/.profile', 'export X=1\n', { uid: 1000, gid: 1000, mode: 0o600 }),
  dir('etc'),
  file('etc/.wh.old-motd', ''),
  dir('opt'),
  dir('opt/replaced'),
  file('opt/replaced/.wh..wh..opq', ''),
  file('opt/replaced/new', 'new\n'),
];

async function storeLayer(entries: LayerEntry[], blobs: string): Promise<WrittenLayer> {
  const tmpPath = join(blobs, `tmp-${randomBytes(4).toString('hex')}`);
  const written = await writeLayer(entries, tmpPath, { epoch: EPOCH });
  await rename(tmpPath, join(blobs, written.digest.slice('sha256:'.length)));
  return written;
}

async function buildTestImage(base: string): Promise<ImageSource> {
  const rootfs = join(base, 'rootfs');
  const blobs = join(base, 'blobs');
  await mkdir(blobs, { recursive: true });
  await busyboxRootfs(rootfs);
  const l1 = await storeLayer(await entriesFromDirectory(rootfs, { owner: { uid: 0, gid: 0 } }), blobs);
  const l2 = await storeLayer(layer2, blobs);
  const config = buildImageConfig({
    architecture: 'amd64',
    os: 'linux',
    epoch: EPOCH,
    config: {
      Env: ['PATH=/bin', 'GREETING=hello world'],
      Cmd: ['cat', '/app/hello.txt'],
      User: '1000:1000',
      WorkingDir: '/app',
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.example.test': 'drydock' },
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Retries: 3 },
      StopSignal: 'SIGTERM',
    },
    diffIds: [l1.diffId, l2.diffId],
    history: [
      { created_by: 'COPY rootfs/ / # buildkit' },
      { created_by: 'RUN /bin/sh -c rm /etc/old-motd && … # buildkit' },
      { created_by: 'ENV GREETING=hello world', empty_layer: true },
      { created_by: 'CMD ["cat" "/app/hello.txt"]', empty_layer: true },
    ],
  });
  const cfg = serializeImageConfig(config);
  const manifest = serializeManifest(
    buildManifest(
      cfg.descriptor,
      [l1, l2].map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ),
  );
  return {
    manifest: manifest.bytes,
    config: cfg.bytes,
    blobs: (digest) => createReadStream(join(blobs, digest.slice('sha256:'.length))),
  };
}

beforeAll(async () => {
  if (!isRoot()) throw new Error('test/oci/image.test.ts needs root and the bench (bash test/env/setup.sh)');
  tmp = await tempDir('image');
  image = await buildTestImage(tmp);
  manifestDigest = sha256(image.manifest);
});
afterAll(async () => {
  await sh(DOCKER, ['rmi', '-f', TAG]).catch(() => undefined);
  await removeDir(tmp);
});

const EXPECTED_ROOTFS = [
  'app/ dir 0755 0:0',
  'app/hard file 0644 0:0 "hello from layer 2\\n" nlink=2',
  'app/hello.txt file 0644 0:0 "hello from layer 2\\n" nlink=2',
  'app/link -> hello.txt 0:0',
  'bin/ dir 0755 0:0',
  'bin/busybox file 0755 0:0 BUSYBOX',
  'bin/cat -> busybox 0:0',
  'bin/id -> busybox 0:0',
  'bin/ls -> busybox 0:0',
  'bin/sh -> busybox 0:0',
  'bin/stat -> busybox 0:0',
  'bin/true -> busybox 0:0',
  'etc/ dir 0755 0:0',
  'etc/group file 0644 0:0 "root:x:0:\\napp:x:1000:\\n"',
  'etc/passwd file 0644 0:0 BYTES',
  'home/ dir 0755 0:0',
  'home/app/ dir 0700 1000:1000',
  'home/app/.profile file 0600 1000:1000 "export X=1\\n"',
  'opt/ dir 0755 0:0',
  'opt/replaced/ dir 0755 0:0',
  'opt/replaced/new file 0644 0:0 "new\\n"',
  'tmp/ dir 1777 0:0',
];

async function expectedRootfs(): Promise<string[]> {
  const size = (await readFile('/bin/busybox')).length;
  const passwd = (await readFile(join(tmp, 'rootfs/etc/passwd'))).length;
  return EXPECTED_ROOTFS.map((l) => l.replace('BUSYBOX', `${size} bytes`).replace('BYTES', `${passwd} bytes`));
}

describe('OCI image end to end', () => {
  it('umoci unpacks the layout to the expected rootfs; skopeo inspects it', async () => {
    const layout = join(tmp, 'layout');
    await writeOciLayout(layout, image, { tags: [{ ref: 'v1', name: TAG }] });
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    expect(index.manifests[0]).toMatchObject({
      digest: manifestDigest,
      annotations: { 'org.opencontainers.image.ref.name': 'v1' },
    });
    expect(JSON.parse(await readFile(join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });

    const bundle = join(tmp, 'bundle');
    await sh('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    expect(await describeTree(join(bundle, 'rootfs'))).toEqual(await expectedRootfs());

    const inspected = JSON.parse(await sh('skopeo', ['inspect', `oci:${layout}:v1`]));
    expect(inspected.Digest).toBe(manifestDigest);
    expect(inspected.Layers).toHaveLength(2);
    expect(inspected.Env).toEqual(['PATH=/bin', 'GREETING=hello world']);
    expect(inspected.Created).toBe('2023-11-14T22:13:20Z');
    const raw = JSON.parse(await sh('skopeo', ['inspect', '--config', `oci:${layout}:v1`]));
    expect(raw.history.map((h: { created_by: string }) => h.created_by)).toEqual([
      'COPY rootfs/ / # buildkit',
      'RUN /bin/sh -c rm /etc/old-motd && … # buildkit',
      'ENV GREETING=hello world',
      'CMD ["cat" "/app/hello.txt"]',
    ]);
  });

  it('rebuilds to the same manifest digest from a tree made under another umask, later', async () => {
    const other = join(tmp, 'rebuild');
    const old = process.umask(0o077);
    let again: ImageSource;
    try {
      again = await buildTestImage(other);
    } finally {
      process.umask(old);
    }
    expect(sha256(again.manifest)).toBe(manifestDigest);
    expect(again.config).toEqual(image.config);
  });

  it('writes the same OCI archive twice, and skopeo reads it', async () => {
    const a = join(tmp, 'a.oci.tar');
    const b = join(tmp, 'b.oci.tar');
    await writeOciArchive(a, image, { tags: [{ ref: 'v1' }], epoch: EPOCH });
    await writeOciArchive(b, image, { tags: [{ ref: 'v1' }], epoch: EPOCH });
    expect(sha256(await readFile(b))).toBe(sha256(await readFile(a)));
    const inspected = JSON.parse(await sh('skopeo', ['inspect', `oci-archive:${a}:v1`]));
    expect(inspected.Digest).toBe(manifestDigest);
  });

  it('docker 20.10 loads the docker archive and runs it with the expected tree and config', async () => {
    const archive = join(tmp, 'image.docker.tar');
    await writeDockerArchive(archive, image, { tags: [{ ref: 'v1', name: TAG }], epoch: EPOCH });
    const again = join(tmp, 'again.docker.tar');
    await writeDockerArchive(again, image, { tags: [{ ref: 'v1', name: TAG }], epoch: EPOCH });
    expect(sha256(await readFile(again))).toBe(sha256(await readFile(archive)));

    expect(await sh(DOCKER, ['load', '-i', archive])).toContain(`Loaded image: ${TAG}`);
    const run = (...args: string[]) => sh(DOCKER, ['run', '--rm', '--network', 'none', ...args]);
    expect(await run(TAG)).toBe('hello from layer 2\n');
    expect(await run(TAG, 'id')).toBe('uid=1000(app) gid=1000(app) groups=1000(app)\n');
    expect(await run(TAG, 'sh', '-c', 'pwd; echo "$GREETING"')).toBe('/app\nhello world\n');
    const stat = await run(
      '--user',
      '0',
      TAG,
      'stat',
      '-c',
      '%n %F %a %u:%g %h',
      '/app/hello.txt',
      '/app/hard',
      '/app/link',
      '/home/app',
      '/opt/replaced/new',
      '/tmp',
    );
    expect(stat.trim().split('\n')).toEqual([
      '/app/hello.txt regular file 644 0:0 2',
      '/app/hard regular file 644 0:0 2',
      '/app/link symbolic link 777 0:0 1',
      '/home/app directory 700 1000:1000 2',
      '/opt/replaced/new regular file 644 0:0 1',
      '/tmp directory 1777 0:0 2',
    ]);
    // docker bind-mounts hostname, hosts, resolv.conf (and busybox adds mtab) into /etc; the deleted file is gone.
    expect(await run(TAG, 'ls', '-a', '/etc', '/opt/replaced')).toBe(
      '/etc:\n.\n..\ngroup\nhostname\nhosts\nmtab\npasswd\nresolv.conf\n\n/opt/replaced:\n.\n..\nnew\n',
    );

    const [inspect] = JSON.parse(await sh(DOCKER, ['image', 'inspect', TAG]));
    expect(inspect.Id).toBe(sha256(image.config));
    expect(inspect.Config).toMatchObject({
      Env: ['PATH=/bin', 'GREETING=hello world'],
      Cmd: ['cat', '/app/hello.txt'],
      User: '1000:1000',
      WorkingDir: '/app',
      ExposedPorts: { '8080/tcp': {} },
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 30_000_000_000, Retries: 3 },
      Labels: { 'org.example.test': 'drydock' },
      StopSignal: 'SIGTERM',
    });
  });
});
