/**
 * @drydock/preset-node for real: projects built natively with `drydock build --load` (and, from
 * `drydock emit`, by BuildKit), run by docker, asked over HTTP. Needs root, the bench
 * (`bash test/env/setup.sh`) and the built CLI; installs reach the npm registry.
 *
 * - examples/preset-node: a standard-library server (no dependencies, no build);
 * - fixtures/npm-build: npm with a prod and a dev dependency and a build script;
 * - fixtures/pnpm-app: pnpm through corepack, no build.
 */
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, emitTo, inspect, type ImageConfig } from '../e2e/emitted.js';
import { docker, drydock, freePort, httpGet, ok, requireBench, Resources, ROOT } from '../e2e/helpers.js';
import { MIRROR_ENV } from '../build/helpers.js';

const res = new Resources();
let work = '';
let env: NodeJS.ProcessEnv = {};
/** The bench reaches the npm registry through a TLS-intercepting proxy: installs get its CA as secret `ca`. */
let caFile = '';

beforeAll(async () => {
  await requireBench();
  work = res.dir(await mkdtemp(join(tmpdir(), 'drydock-preset-node-')));
  // Configs import 'drydock' and '@drydock/preset-node': the workspace's built packages, as a user's would.
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  caFile =
    process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS)
      ? process.env.NODE_EXTRA_CA_CERTS
      : '';
  if (!caFile) await writeFile((caFile = join(work, 'no-extra-ca.pem')), '');
  env = { ...MIRROR_ENV, DRYDOCK_HOME: join(work, 'home'), PRESET_TEST_CA: caFile };
}, 60_000);

afterAll(() => res.cleanup());

/** A private copy of a project (builds write images.lock.json; tests edit files). */
async function project(source: string, name = basename(source)): Promise<string> {
  const dir = join(work, name);
  await cp(source, dir, { recursive: true, filter: (src) => !/\/(dockerfiles|node_modules)(\/|$)/.test(src) });
  return dir;
}

interface Built {
  tag: string;
  /** Steps that ran rather than came from the cache, as `stage: instruction`. */
  executed: string[];
}

async function buildNative(dir: string, name: string): Promise<Built> {
  const tag = res.tag(name);
  const r = ok(`drydock build -c ${dir}`, await drydock(['build', '-c', dir, '--load', '-t', tag], { env }));
  const executed = [...r.stderr.matchAll(/^\[[^/\]]+\/(\S+) \d+\/\d+\] (?!CACHED )(.*?) {2}\d+\.\d+s$/gm)].map(
    (m) => `${m[1]}: ${m[2]}`,
  );
  return { tag, executed };
}

/** `drydock emit`, then `DOCKER_BUILDKIT=1 docker build` of the emitted Dockerfile and context. */
async function buildWithBuildKit(dir: string, image: string, name: string, secrets: string[] = []): Promise<string> {
  const emitted = await emitTo(dir, join(work, `${name}-emitted`));
  expect(emitted.files.get(`${image}.Dockerfile`)).not.toMatch(/^#\s*syntax=/m); // offline: built-in frontend only
  return buildImage(res.tag(name), emitted, image, { secrets });
}

/** Runs the image with its port published on a free host port; the first answer to GET `path`. */
async function serve(tag: string, port: number, path = '/'): Promise<{ id: string; status: number; body: string }> {
  const host = await freePort();
  const id = res.container(
    ok('docker run', await docker(['run', '-d', '-p', `127.0.0.1:${host}:${port}`, tag])).stdout.trim(),
  );
  const reply = await httpGet(`http://127.0.0.1:${host}${path}`);
  return { id, ...reply };
}

/** User ids of the processes in a running container, as the host sees them. */
async function processUids(id: string): Promise<number[]> {
  const top = ok('docker top', await docker(['top', id, '-eo', 'pid,uid']));
  return top.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => Number(line.trim().split(/\s+/)[1]));
}

function expectProductionConfig(config: ImageConfig, port: number): void {
  expect(config.User).toBe('node');
  expect(config.ExposedPorts).toEqual({ [`${port}/tcp`]: {} });
  expect(config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production', `PORT=${port}`]));
  expect(config.WorkingDir).toBe('/app');
}

describe('examples/preset-node (no dependencies, no build)', () => {
  let dir: string;
  let built: Built;

  beforeAll(async () => {
    dir = await project(join(ROOT, 'examples/preset-node'));
    built = await buildNative(dir, 'preset-node');
  });

  it('builds natively; the container answers HTTP as node (uid 1000) in production', async () => {
    const { id, status, body } = await serve(built.tag, 8080);
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ service: 'preset-node', env: 'production', uid: 1000 });
    expect(await processUids(id)).toEqual([1000]);
    expect((await serve(built.tag, 8080, '/health')).body).toBe('ok\n');
  });

  it('declares its port, user and environment in the image config', async () => {
    const config = await inspect(built.tag);
    expectProductionConfig(config, 8080);
    expect(config.Cmd).toEqual(['node', 'server.js']);
    expect(config.Healthcheck?.Test).toEqual(expect.arrayContaining(['CMD', 'node', '-e']));
  });

  it('rebuilds nothing when nothing changed, and only the app layer after a source edit', async () => {
    expect((await buildNative(dir, 'preset-node-noop')).executed).toEqual([]);
    await appendFile(join(dir, 'server.js'), '// edited\n');
    expect((await buildNative(dir, 'preset-node-edit')).executed).toEqual(['runtime: COPY . ./']);
  });

  it('builds from the emitted Dockerfile with BuildKit into an image that serves the same way', async () => {
    const tag = await buildWithBuildKit(dir, 'preset-node', 'preset-node-buildkit');
    const { status, body } = await serve(tag, 8080);
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ service: 'preset-node', env: 'production', uid: 1000 });
    expectProductionConfig(await inspect(tag), 8080);
  });
});

describe('npm with a build script, a dependency and a dev dependency', () => {
  let dir: string;
  let built: Built;

  beforeAll(async () => {
    dir = await project(join(ROOT, 'test/presets/fixtures/npm-build'));
    built = await buildNative(dir, 'preset-npm-build');
  });

  it('serves the build output with its production dependency, the dev dependency pruned', async () => {
    const { status, body } = await serve(built.tag, 3000);
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ built: true, uptime: '2s', devDependencyPresent: false, env: 'production' });
    expectProductionConfig(await inspect(built.tag), 3000);
  });

  it('installed in its own steps, which a source edit does not re-run', async () => {
    expect(built.executed).toEqual(
      expect.arrayContaining([
        'deps: RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=ca,target=/run/secrets/ca,required=false npm ci --no-audit --no-fund',
        'prod-deps: RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=ca,target=/run/secrets/ca,required=false npm prune --omit=dev --no-audit --no-fund',
      ]),
    );
    await appendFile(join(dir, 'src/server.js'), '// edited\n');
    const again = await buildNative(dir, 'preset-npm-build-edit');
    expect(again.executed.map((s) => s.replace(/ --mount=\S+/g, ''))).toEqual([
      'build: COPY . ./',
      'build: RUN npm run build',
      'build: RUN rm -rf node_modules',
      'runtime: COPY --from=build /app ./',
    ]);
  });

  it('builds from the emitted Dockerfile with BuildKit, the same app', async () => {
    const tag = await buildWithBuildKit(dir, 'app', 'preset-npm-build-buildkit', [`id=ca,src=${caFile}`]);
    const { body } = await serve(tag, 3000);
    expect(JSON.parse(body)).toEqual({ built: true, uptime: '2s', devDependencyPresent: false, env: 'production' });
  });
});

describe('pnpm through corepack', () => {
  it('installs production dependencies with the pnpm the lockfile needs; the app answers', async () => {
    const dir = await project(join(ROOT, 'test/presets/fixtures/pnpm-app'));
    const built = await buildNative(dir, 'preset-pnpm');
    expect(built.executed.map((s) => s.replace(/ --mount=\S+/g, ''))).toContain(
      'prod-deps: RUN corepack pnpm@9 install --prod --frozen-lockfile',
    );
    const { id, body } = await serve(built.tag, 3000);
    expect(JSON.parse(body)).toEqual({ manager: 'pnpm', uptime: '2m', env: 'production' });
    expect(await processUids(id)).toEqual([1000]);
  });
});
