// loadImage into the bench's docker 20.10 (streamed, no temp file), then run it; a stand-in podman
// script checks the podman path; missing CLIs, an unreachable daemon, a corrupt blob.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dockerArchiveStream,
  isExportError,
  loadImage,
  resolveEngine,
  type ExportError,
} from '../../core/src/export/index.js';
import { writeDockerArchive } from '../../core/src/oci/index.js';
import { buildTestImage, cleanupTempDirs, DOCKER, rejection, RUN_ID, sh, tempDir, type TestImage } from './helpers.js';

const TAG = `drydock-export-test:${RUN_ID}`;
const TAG2 = `127.0.0.1:5000/drydock-export-test/loaded:${RUN_ID}`;
const created: string[] = [];
let image: TestImage;

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

beforeAll(async () => {
  image = await buildTestImage();
});
afterAll(async () => {
  for (const tag of created) await sh(DOCKER, ['rmi', '-f', tag]).catch(() => undefined);
  cleanupTempDirs();
});

describe('docker archive stream', () => {
  it('is byte for byte the file writeDockerArchive writes', async () => {
    const tags = [{ ref: 'v1', name: 'app:v1' }, { ref: 'v2' }];
    const file = join(tempDir(), 'image.tar');
    await writeDockerArchive(file, image, { tags, epoch: 1234 });
    const streamed = await collect(dockerArchiveStream(image, { tags, epoch: 1234 }));
    expect(streamed.equals(readFileSync(file))).toBe(true);
  });

  it('without the OCI layout it is a plain docker archive', async () => {
    const file = join(tempDir(), 'plain.tar');
    writeFileSync(file, await collect(dockerArchiveStream(image, { ociLayout: false })));
    const names = (await sh('tar', ['-tf', file])).trim().split('\n');
    expect(names).toContain('manifest.json');
    expect(names).not.toContain('index.json');
    expect(names).not.toContain('oci-layout');
    expect(names).toContain(`blobs/sha256/${image.appLayer.slice(7)}`);
  });
});

describe('loadImage into docker', () => {
  it('loads with both tags; the id is the config digest; the image runs', async () => {
    created.push(TAG, TAG2);
    const result = await loadImage({ image, tags: [TAG, TAG2], engine: 'docker' });
    expect(result).toEqual({ imageId: image.configDigest, engine: 'docker', binary: DOCKER, tags: [TAG, TAG2] });
    const inspect = JSON.parse(await sh(DOCKER, ['image', 'inspect', TAG])) as { Id: string; RepoTags: string[] }[];
    expect(inspect[0]!.Id).toBe(image.configDigest);
    expect([...inspect[0]!.RepoTags].sort()).toEqual([TAG, TAG2].sort());
    expect(await sh(DOCKER, ['run', '--rm', TAG, 'cat', '/app/hello.txt'])).toBe(image.hello);
    expect(await sh(DOCKER, ['run', '--rm', TAG2])).toBe(image.hello); // the config's Cmd
  });

  it('a tag without one gets latest; auto picks /usr/bin/docker', async () => {
    const name = `drydock-export-test-latest-${RUN_ID}`;
    created.push(`${name}:latest`);
    const result = await loadImage({ image, tags: [name] });
    expect(result.tags).toEqual([`${name}:latest`]);
    expect(result.engine).toBe('docker');
    expect(await sh(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', `${name}:latest`])).toBe(
      `${image.configDigest}\n`,
    );
  });

  it("no tags: the id comes from docker load's own output", async () => {
    const result = await loadImage({ image, tags: [] });
    expect(result.imageId).toBe(image.configDigest);
  });

  it('a blob that does not match its digest fails the load with the verification error', async () => {
    const bad = {
      ...image,
      blobs: (d: string) => (d === image.appLayer ? Readable.from([Buffer.from('junk')]) : image.blobs(d)),
    };
    const tag = `drydock-export-test-corrupt:${RUN_ID}`;
    created.push(tag);
    const error = await rejection(loadImage({ image: bad, tags: [tag] }));
    expect(error.message).toMatch(/expected \d+ bytes of content, read 4|content hashes to/);
    await expect(sh(DOCKER, ['image', 'inspect', tag])).rejects.toThrow(/No such image/);
  });

  it("an unreachable daemon is EDAEMON carrying docker's stderr", async () => {
    const error = (await rejection(
      loadImage({
        image,
        tags: [TAG],
        env: { ...process.env, DOCKER_HOST: 'unix:///tmp/drydock-no-such-daemon.sock' },
      }),
    )) as ExportError;
    expect(isExportError(error, 'EDAEMON')).toBe(true);
    expect(error.message).toMatch(
      /^docker: cannot reach the docker daemon: Cannot connect to the Docker daemon at unix:\/\/\/tmp\/drydock-no-such-daemon.sock/,
    );
    expect(error.stderr).toContain('Is the docker daemon running?');
    expect(error.binary).toBe(DOCKER);
  });

  it('an aborted signal kills the load', async () => {
    const controller = new AbortController();
    const slow = {
      ...image,
      blobs: (d: string) =>
        d === image.appLayer
          ? new Readable({
              // A trickle that would take minutes; it ends once the load is aborted.
              read() {
                setTimeout(() => this.push(controller.signal.aborted ? null : Buffer.alloc(16)), 20);
              },
            })
          : image.blobs(d),
    };
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const error = await rejection(loadImage({ image: slow, tags: [], signal: controller.signal }));
    expect(error.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('engine selection and errors', () => {
  it('a binary that does not exist is ENOENGINE', async () => {
    const error = await rejection(loadImage({ image, tags: [TAG], binary: '/nonexistent/docker' }));
    expect(isExportError(error, 'ENOENGINE')).toBe(true);
    expect(error.message).toBe('docker: /nonexistent/docker not found or not executable');
  });

  it('podman not on PATH, or nothing at all, says where it looked', () => {
    const podman = (() => {
      try {
        return resolveEngine('podman', undefined, { PATH: '/nonexistent' });
      } catch (e) {
        return e as ExportError;
      }
    })();
    expect(isExportError(podman, 'ENOENGINE')).toBe(true);
    expect((podman as Error).message).toBe('no container engine to load the image into (looked for podman on PATH)');
    expect(resolveEngine('auto', undefined, { PATH: '/nonexistent' })).toEqual({ engine: 'docker', binary: DOCKER });
    expect(resolveEngine('docker', 'docker', { PATH: '/usr/bin' })).toEqual({ engine: 'docker', binary: DOCKER });
  });

  describe('a stand-in podman (a script recording what it was given)', () => {
    let dir: string;
    let podman: string;
    beforeAll(() => {
      dir = tempDir();
      podman = join(dir, 'podman');
      writeFileSync(
        podman,
        [
          '#!/bin/sh',
          `echo "$@" >> '${dir}/args'`,
          'case "$1" in',
          `  load) cat > '${dir}/stdin.tar'; [ -n "$FAIL" ] && { echo "Error: payload does not match" >&2; exit 125; }; echo "Loaded image: localhost/x:1" ;;`,
          `  image) echo ${image.configDigest.slice(7)} ;;`,
          'esac',
          '',
        ].join('\n'),
      );
      chmodSync(podman, 0o755);
    });

    it('is found on PATH, gets a plain docker archive with the RepoTags, and its bare hex id is prefixed', async () => {
      const env = { ...process.env, PATH: `${dir}:/usr/bin:/bin` };
      const result = await loadImage({ image, tags: ['app:1'], engine: 'podman', env });
      expect(result).toEqual({ imageId: image.configDigest, engine: 'podman', binary: podman, tags: ['app:1'] });
      expect(readFileSync(join(dir, 'args'), 'utf8')).toBe('load\nimage inspect --format {{.Id}} app:1\n');
      const tar = join(dir, 'stdin.tar');
      expect((await sh('tar', ['-tf', tar])).split('\n')).not.toContain('index.json');
      const manifest = JSON.parse(await sh('tar', ['-xOf', tar, 'manifest.json'])) as { RepoTags: string[] }[];
      expect(manifest[0]!.RepoTags).toEqual(['app:1']);
    });

    it('a failing load is ELOAD with its stderr', async () => {
      const error = (await rejection(
        loadImage({ image, tags: ['app:1'], binary: podman, env: { ...process.env, FAIL: '1' } }),
      )) as ExportError;
      expect(isExportError(error, 'ELOAD')).toBe(true);
      expect(error.message).toBe('podman: podman load failed (exit status 125): Error: payload does not match');
      expect(error.stderr).toBe('Error: payload does not match');
    });
  });

  it('a digest is not a tag', async () => {
    const error = await rejection(loadImage({ image, tags: [`app@${image.digest}`] }));
    expect(isExportError(error, 'ETAG')).toBe(true);
  });
});
