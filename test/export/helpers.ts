// A small real image for the export tests: the bench's busybox layer (from 127.0.0.1:5000) plus a
// layer with /app/hello.txt whose content is unique per run, assembled with the OCI leaf.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import {
  buildImageConfig,
  buildManifest,
  serializeImageConfig,
  serializeManifest,
  writeLayer,
  type ImageSource,
  type LayerEntry,
} from '../../core/src/oci/index.js';
import { RegistryClient } from '../../core/src/registry/index.js';

export const OPEN = '127.0.0.1:5000';
export const AUTH = '127.0.0.1:5001';
export const USER = 'drydock';
export const PASSWORD = 'drydock-test-pw';
export const DOCKER = '/usr/bin/docker';
export const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
export const BUSYBOX = `${OPEN}/library/busybox:latest`;
const EPOCH = 1_700_000_000;

const exec = promisify(execFile);

/** Runs a command, returns stdout; the error names the command and carries stderr. */
export async function sh(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...(env ? { env } : {}) });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr || err.message}`);
  }
}

const dirs: string[] = [];
export function tempDir(prefix = 'drydock-export-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
export function cleanupTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A DOCKER_CONFIG dir whose config.json is `config`. */
export function dockerConfigDir(config: unknown): string {
  const dir = tempDir('drydock-docker-config-');
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}
export const basicAuth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

export interface TestImage extends ImageSource {
  digest: string;
  configDigest: string;
  /** Content of /app/hello.txt. */
  hello: string;
  baseLayer: string;
  appLayer: string;
  /** Every blob in the manifest, config first. */
  blobDigests: string[];
  /** How many times each blob was opened. */
  opened: Map<string, number>;
}

async function layerBytes(entries: LayerEntry[]) {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      cb();
    },
  });
  const written = await writeLayer(entries, sink, { epoch: EPOCH });
  return { ...written, bytes: Buffer.concat(parts) };
}

/** busybox + /app/hello.txt, all blobs in memory. `hello` defaults to a per-run unique line. */
export async function buildTestImage(hello = `hello from drydock export ${RUN_ID}\n`): Promise<TestImage> {
  const source = new RegistryClient({ envMirrors: false });
  const base = await source.resolve(BUSYBOX);
  const baseConfig = JSON.parse((await source.fetchBlobBytes(BUSYBOX, base.manifest.config)).toString()) as {
    config: { Env?: string[] };
    rootfs: { diff_ids: string[] };
  };
  const baseLayer = base.manifest.layers[0]!;
  const baseBytes = await source.fetchBlobBytes(BUSYBOX, baseLayer);
  const app = await layerBytes([
    { path: 'app', type: 'dir', mode: 0o755, uid: 0, gid: 0 },
    {
      path: 'app/hello.txt',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: Buffer.byteLength(hello),
      content: () => Readable.from([Buffer.from(hello)]),
    },
  ]);
  const config = serializeImageConfig(
    buildImageConfig({
      architecture: 'amd64',
      os: 'linux',
      epoch: EPOCH,
      config: { Env: baseConfig.config.Env ?? ['PATH=/bin'], Cmd: ['cat', '/app/hello.txt'] },
      diffIds: [...baseConfig.rootfs.diff_ids, app.diffId],
      history: [{ created_by: 'busybox base' }, { created_by: 'COPY hello.txt /app/ # buildkit' }],
    }),
  );
  const manifest = serializeManifest(
    buildManifest(config.descriptor, [
      { mediaType: baseLayer.mediaType, digest: baseLayer.digest, size: baseLayer.size },
      { mediaType: app.mediaType, digest: app.digest, size: app.size },
    ]),
  );
  const blobs = new Map([
    [baseLayer.digest, baseBytes],
    [app.digest, app.bytes],
  ]);
  const opened = new Map<string, number>();
  return {
    manifest: manifest.bytes,
    config: config.bytes,
    blobs: (digest) => {
      const bytes = blobs.get(digest);
      if (!bytes) throw new Error(`test image has no blob ${digest}`);
      opened.set(digest, (opened.get(digest) ?? 0) + 1);
      return Readable.from([bytes]);
    },
    digest: manifest.descriptor.digest,
    configDigest: config.descriptor.digest,
    hello,
    baseLayer: baseLayer.digest,
    appLayer: app.digest,
    blobDigests: [config.descriptor.digest, baseLayer.digest, app.digest],
    opened,
  };
}

export function skopeoInspect(ref: string, creds?: string): { Digest: string; Layers: string[]; RepoTags?: string[] } {
  return JSON.parse(
    execFileSyncText('skopeo', ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), ref]),
  ) as { Digest: string; Layers: string[] };
}

function execFileSyncText(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
