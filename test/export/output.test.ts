// --output values as buildx spells them, and writing each kind: read back with skopeo, umoci, docker.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isExportError, parseOutput, writeOutput, type ExportError } from '../../core/src/export/index.js';
import { RegistryClient } from '../../core/src/registry/index.js';
import {
  buildTestImage,
  cleanupTempDirs,
  DOCKER,
  OPEN,
  RUN_ID,
  sh,
  skopeoInspect,
  tempDir,
  type TestImage,
} from './helpers.js';

let image: TestImage;
const loaded: string[] = [];
beforeAll(async () => {
  image = await buildTestImage();
});
afterAll(async () => {
  for (const tag of loaded) await sh(DOCKER, ['rmi', '-f', tag]).catch(() => undefined);
  cleanupTempDirs();
});

function parseError(spec: string): ExportError {
  try {
    parseOutput(spec);
  } catch (error) {
    if (isExportError(error, 'EOUTPUT')) return error;
    throw error;
  }
  throw new Error(`parseOutput(${JSON.stringify(spec)}) did not fail`);
}

describe('parseOutput', () => {
  it('reads the types buildx has, and their aliases', () => {
    expect(parseOutput('type=oci,dest=out')).toEqual({ type: 'oci', dest: 'out' });
    expect(parseOutput('type=oci,dest=out,tar=false')).toEqual({ type: 'oci', dest: 'out' });
    expect(parseOutput('type=oci,dest=out.tar,tar=true')).toEqual({ type: 'oci-archive', dest: 'out.tar' });
    expect(parseOutput('type=oci-archive,dest=/tmp/x.tar')).toEqual({ type: 'oci-archive', dest: '/tmp/x.tar' });
    expect(parseOutput('type=docker-archive,dest=x.tar')).toEqual({ type: 'docker-archive', dest: 'x.tar' });
    expect(parseOutput('type=docker,dest=x.tar')).toEqual({ type: 'docker-archive', dest: 'x.tar' });
    expect(parseOutput('type=docker')).toEqual({ type: 'load', engine: 'docker' });
    expect(parseOutput('type=registry')).toEqual({ type: 'registry' });
    expect(parseOutput('TYPE=registry,name=127.0.0.1:5000/app:1')).toEqual({
      type: 'registry',
      names: ['127.0.0.1:5000/app:1'],
    });
  });

  it('CSV quoting as buildx (Go encoding/csv): several names in one quoted field; commas in a path', () => {
    expect(parseOutput('type=registry,"name=reg.example/a:1,reg.example/a:latest"')).toEqual({
      type: 'registry',
      names: ['reg.example/a:1', 'reg.example/a:latest'],
    });
    expect(parseOutput('type=oci-archive,"dest=a,b ""c"".tar"')).toEqual({ type: 'oci-archive', dest: 'a,b "c".tar' });
  });

  it('errors name the bad key or value and list what is allowed', () => {
    const types = 'oci, oci-archive, docker-archive, docker, registry';
    expect(parseError('dest=out').message).toBe(`--output "dest=out": missing type= (allowed: ${types})`);
    expect(parseError('type=local,dest=out').message).toBe(
      `--output "type=local,dest=out": unknown type "local" (allowed: ${types})`,
    );
    expect(parseError('type=oci,dest=out,compression=zstd').message).toBe(
      '--output "type=oci,dest=out,compression=zstd": unknown key "compression" for type=oci (allowed: dest, name, tar)',
    );
    expect(parseError('type=registry,dest=x').message).toBe(
      '--output "type=registry,dest=x": unknown key "dest" for type=registry (allowed: name)',
    );
    expect(parseError('type=oci-archive').message).toBe('--output "type=oci-archive": type=oci-archive needs dest=');
    expect(parseError('type=oci,dest=').message).toBe('--output "type=oci,dest=": dest= is empty');
    expect(parseError('type=oci,dest=o,tar=yes').message).toBe(
      '--output "type=oci,dest=o,tar=yes": tar=yes: allowed values are true, false',
    );
    expect(parseError('./out').message).toBe(
      '--output "./out": "./out" is not key=value (expected e.g. type=oci,dest=out)',
    );
    expect(parseError('type=oci,type=oci').message).toBe('--output "type=oci,type=oci": key type given twice');
    expect(parseError('').message).toBe('--output "": empty (expected e.g. type=oci,dest=out)');
    expect(parseError('type=registry,"name=a').message).toBe('--output "type=registry,\\"name=a": unterminated quote');
    expect(parseError('type=registry,name=Bad/Name').message).toBe(
      '--output "type=registry,name=Bad/Name": name: invalid image reference "Bad/Name": repository names must be lowercase',
    );
  });
});

describe('writeOutput', () => {
  const tags = [{ ref: 'v1', name: `drydock-export-out:${RUN_ID}` }];

  it('type=oci: a layout dir umoci unpacks by its ref name', async () => {
    const dir = tempDir();
    const result = await writeOutput(parseOutput(`type=oci,dest=${join(dir, 'layout')}`), image, tags);
    expect(result).toEqual({ digest: image.digest });
    await sh('umoci', ['unpack', '--image', `${join(dir, 'layout')}:v1`, join(dir, 'bundle')]);
    expect(readFileSync(join(dir, 'bundle/rootfs/app/hello.txt'), 'utf8')).toBe(image.hello);
  });

  it('type=oci-archive (parent dirs created) and type=docker,dest=: skopeo reads both', async () => {
    const dir = tempDir();
    const oci = join(dir, 'sub/dir/image-oci.tar');
    await writeOutput(parseOutput(`type=oci-archive,dest=${oci}`), image, tags);
    expect(skopeoInspect(`oci-archive:${oci}:v1`).Digest).toBe(image.digest);
    const docker = join(dir, 'image-docker.tar');
    await writeOutput(parseOutput(`type=docker,dest=${docker}`), image, tags);
    const info = skopeoInspect(`docker-archive:${docker}`);
    // skopeo names a docker archive's layers by their diff_ids.
    const config = JSON.parse(image.config.toString()) as { rootfs: { diff_ids: string[] } };
    expect(info.Layers).toEqual(config.rootfs.diff_ids);
    const manifest = JSON.parse(await sh('tar', ['-xOf', docker, 'manifest.json'])) as { RepoTags: string[] }[];
    expect(manifest[0]!.RepoTags).toEqual([tags[0]!.name]);
  });

  it('type=registry pushes to name= (or the tags); type=docker loads', async () => {
    const client = new RegistryClient({ envMirrors: false });
    const ref = `${OPEN}/drydock-test/export-out-${RUN_ID}:v1`;
    const pushed = await writeOutput(parseOutput(`type=registry,name=${ref}`), image, tags, { client });
    expect(pushed).toEqual({ digest: image.digest, refs: [ref] });
    expect(skopeoInspect(`docker://${ref}`).Digest).toBe(image.digest);
    const byTag = await writeOutput(
      parseOutput('type=registry'),
      image,
      [{ ref: 'v2', name: `${OPEN}/drydock-test/export-out-${RUN_ID}:v2` }],
      { client },
    );
    expect(byTag.refs).toEqual([`${OPEN}/drydock-test/export-out-${RUN_ID}:v2`]);

    loaded.push(tags[0]!.name);
    const load = await writeOutput(parseOutput('type=docker'), image, tags);
    expect(load).toEqual({ digest: image.digest, imageId: image.configDigest });
    expect(await sh(DOCKER, ['run', '--rm', tags[0]!.name])).toBe(image.hello);
  });

  it('a push or load with no name at all says so', async () => {
    const error = await writeOutput(parseOutput('type=registry'), image, [{ ref: 'v1' }]).catch((e: Error) => e);
    expect(isExportError(error, 'EOUTPUT')).toBe(true);
    expect((error as Error).message).toBe('type=registry: no image name to push (give name= or a tag)');
  });
});
