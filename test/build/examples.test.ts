/**
 * Every example builds natively with the CLI, as a user runs it: `drydock build --load` puts
 * images into dockerd that `docker run` runs; `--output type=oci` writes a layout that skopeo and
 * umoci read; `--push` lands in a registry; `drydock prune` keeps what the cache still needs.
 */
import { cp, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  docker,
  drydock,
  exec,
  freePort,
  httpGet,
  npmrcWithSentinel,
  ok,
  requireBench,
  Resources,
  ROOT,
} from '../e2e/helpers.js';
import { MIRROR_ENV } from './helpers.js';

const res = new Resources();
let work: string;
let env: NodeJS.ProcessEnv;

/** A copy of an example (builds write images.lock.json next to the config). */
async function example(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(ROOT, 'examples', name), dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  await requireBench();
  work = res.dir(await mkdtemp(join(tmpdir(), 'drydock-examples-')));
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  const npmrc = join(work, 'npmrc');
  await writeFile(npmrc, await npmrcWithSentinel('drydock-sentinel-examples-0001'));
  env = { ...MIRROR_ENV, DRYDOCK_HOME: join(work, 'home'), NPMRC_PATH: npmrc };
}, 60_000);
afterAll(async () => res.cleanup());

describe('drydock build --load', () => {
  it('builds hello; docker runs it with the config entrypoint, cmd, env and user', async () => {
    const dir = await example('hello');
    const tag = res.tag('hello');
    ok('build', await drydock(['build', '-c', dir, '--load', '-t', tag, '--arg', 'GREETING=Ahoy'], { env }));
    const run = ok('run', await docker(['run', '--rm', tag, 'crew']));
    expect(run.stdout).toBe('Ahoy, crew.\n');
    const id = ok('run', await docker(['run', '--rm', '--entrypoint', 'id', tag]));
    expect(id.stdout).toMatch(/^uid=65534\(nobody\)/);
    expect(JSON.parse(await readFile(join(dir, 'images.lock.json'), 'utf8')).images).toHaveProperty([
      'busybox:1.35 linux/amd64',
    ]);
  });

  it('builds node-api (npm ci with a secret and a cache mount, tsc); the container serves HTTP', async () => {
    const dir = await example('node-api');
    const tag = res.tag('node-api');
    ok('build', await drydock(['build', '-c', dir, '--load', '-t', tag], { env }));
    const port = await freePort();
    const id = res.container(ok('run', await docker(['run', '-d', '-p', `127.0.0.1:${port}:3000`, tag])).stdout.trim());
    const reply = await httpGet(`http://127.0.0.1:${port}/`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ service: 'node-api', uid: 1000 });
    expect(id).toBeTruthy();
  });

  it('builds the three monorepo images at once; api and web answer, the worker runs', async () => {
    const dir = await example('monorepo');
    const r = ok('build', await drydock(['build', '-c', dir, '--load'], { env }));
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['api', 'worker', 'web']);
    const tags = {
      api: 'drydock-examples/monorepo-api:latest',
      worker: 'drydock-examples/monorepo-worker:latest',
      web: 'drydock-examples/monorepo-web:latest',
    };
    const apiPort = await freePort();
    res.container(ok('api', await docker(['run', '-d', '-p', `127.0.0.1:${apiPort}:8080`, tags.api])).stdout.trim());
    expect((await httpGet(`http://127.0.0.1:${apiPort}/healthz`)).status).toBe(200);
    const webPort = await freePort();
    res.container(ok('web', await docker(['run', '-d', '-p', `127.0.0.1:${webPort}:8081`, tags.web])).stdout.trim());
    expect((await httpGet(`http://127.0.0.1:${webPort}/`)).body).toContain('<');
    const worker = ok('worker', await docker(['run', '--rm', '-i', tags.worker], { input: 'hello\n' }));
    expect(worker.stdout.length).toBeGreaterThan(0);
  });
});

describe('drydock build --output and --push', () => {
  it('writes an OCI layout that skopeo inspects and umoci unpacks', async () => {
    const dir = await example('hello');
    const out = join(work, 'oci-hello');
    ok('build', await drydock(['build', '-c', dir, '--output', `type=oci,dest=${out}`], { env }));
    const inspect = JSON.parse(ok('skopeo', await exec('skopeo', ['inspect', `oci:${out}:latest`])).stdout);
    expect(inspect.Labels['org.opencontainers.image.title']).toBe('hello');
    expect(inspect.Env).toContain('MOOD=calm');
    const bundle = join(work, 'umoci-hello');
    ok('umoci', await exec('umoci', ['unpack', '--image', `${out}:latest`, bundle]));
    expect(await readFile(join(bundle, 'rootfs/etc/hello/greeting'), 'utf8')).toBe('Hello\n');
    const config = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
    expect(config.process.args).toEqual(['/usr/local/bin/greet', 'world']);
  });

  it('writes a docker archive that docker load accepts', async () => {
    const dir = await example('hello');
    const file = join(work, 'hello.tar');
    const tag = res.tag('hello-archive');
    ok(
      'build',
      await drydock(['build', '-c', dir, '-t', tag, '--output', `type=docker-archive,dest=${file}`], { env }),
    );
    ok('load', await docker(['load', '-i', file]));
    expect(ok('run', await docker(['run', '--rm', tag, 'archive'])).stdout).toBe('Hello, archive.\n');
  });

  it('pushes to the loopback registry; skopeo reads the same manifest digest', async () => {
    const dir = await example('hello');
    const ref = `127.0.0.1:5000/drydock-test/hello:${res.runId}`;
    const r = ok('build', await drydock(['build', '-c', dir, '--push', '-t', ref], { env }));
    const digest = r.stdout.split(/\s+/)[1];
    const inspect = JSON.parse(
      ok('skopeo', await exec('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout,
    );
    expect(inspect.Digest).toBe(digest);
  });
});

describe('drydock prune', () => {
  it('removes nothing a cache record needs, and everything with --all', async () => {
    const dir = await example('hello');
    const home = join(work, 'prune-home');
    const e = { ...env, DRYDOCK_HOME: home };
    ok('build', await drydock(['build', '-c', dir], { env: e }));
    const codeCaches = async (): Promise<string[]> => readdir(join(home, 'v1', 'code-cache')).catch(() => []);
    expect(await codeCaches()).not.toEqual([]);
    const kept = ok('prune', await drydock(['prune'], { env: e }));
    expect(kept.stdout).toMatch(/^removed 0 cache records, 0 blobs, 0 snapshots/);
    // The executable's code caches go too: the next build writes them again.
    expect(await codeCaches()).toEqual([]);
    const again = ok('rebuild', await drydock(['build', '-c', dir], { env: e }));
    expect(again.stderr).toContain('0 steps executed');
    const walkRecords = async (): Promise<string[]> =>
      (await readdir(join(home, 'v1', 'stat-cache'))).filter((name) => name.endsWith('.walk'));
    expect(await walkRecords()).not.toEqual([]);
    const all = ok('prune --all', await drydock(['prune', '--all'], { env: e }));
    expect(await walkRecords()).toEqual([]);
    expect(all.stdout).toMatch(/^removed [1-9]\d* cache records, [1-9]\d* blobs, [1-9]\d* snapshots/);
    const cold = ok('cold', await drydock(['build', '-c', dir], { env: e }));
    expect(cold.stderr).toContain('2 steps executed');
    await rm(home, { recursive: true, force: true });
  });
});
