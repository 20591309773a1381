/**
 * Every example, end to end through BuildKit: `drydock emit` writes the Dockerfiles, docker 20.10's
 * built-in frontend builds them (offline base images from the bench's registry mirror), and the
 * images run and answer as they should. Needs root and the bench (`bash test/env/setup.sh`).
 *
 * Images are built once per example (in `beforeAll`) and shared by its tests; tags are unique per
 * run and removed at the end, as are containers. npm's cache lives in BuildKit's cache mount, so
 * reruns do not download packages again.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArgs, buildImage, emitTo, envOf, inspect, target, type BuildOptions, type Emitted } from './emitted.js';
import {
  ROOT,
  Resources,
  docker,
  drydock,
  fileContains,
  freePort,
  httpGet,
  npmrcWithSentinel,
  ok,
  requireBench,
  waitFor,
  type Result,
} from './helpers.js';

const res = new Resources();
const RUN_ID = res.runId;
const tagFor = (name: string) => res.tag(name);
let tmp = '';

beforeAll(async () => {
  await requireBench();
  tmp = res.dir(await mkdtemp(join(tmpdir(), 'drydock-e2e-')));
});

afterAll(() => res.cleanup());

// ------------------------------------------------------------------------------------------------
// emit, bake targets, build, run

/** `drydock emit -c <config> -o <tmp>/<name>`, with the written files read back. */
const emit = (config: string, name: string, extra: readonly string[] = []) => emitTo(config, join(tmp, name), extra);

/** Builds an emitted image under a fresh tag; returns the tag. */
const build = (name: string, e: Emitted, image: string, o: BuildOptions = {}) => buildImage(tagFor(name), e, image, o);

async function runOnce(tag: string, args: readonly string[] = [], input?: string): Promise<Result> {
  return ok(
    `docker run ${tag} ${args.join(' ')}`,
    await docker(
      ['run', '--rm', ...(input === undefined ? [] : ['-i']), tag, ...args],
      input === undefined ? {} : { input },
    ),
  );
}

/** Starts a server image on the host network; docker checks its health every second. */
async function runDetached(tag: string, extra: readonly string[] = []): Promise<string> {
  const r = ok(
    `docker run -d ${tag}`,
    await docker(['run', '-d', '--network', 'host', '--health-interval', '1s', ...extra, tag]),
  );
  return res.container(r.stdout.trim());
}

async function healthOf(id: string): Promise<string> {
  const r = ok(
    'docker inspect',
    await docker(['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', id]),
  );
  return r.stdout.trim();
}

async function waitHealthy(id: string): Promise<void> {
  await waitFor(`container ${id.slice(0, 12)} to be healthy`, async () => {
    const status = await healthOf(id);
    if (status === 'unhealthy') {
      const logs = await docker(['logs', id]);
      throw new Error(`container ${id.slice(0, 12)} is unhealthy\n${logs.stdout}${logs.stderr}`);
    }
    return status === 'healthy' ? true : undefined;
  });
}

/** `emit --check` succeeds on fresh output, then fails once an emitted file is edited or removed. */
async function expectCheckCatchesEdits(config: string, e: Emitted, edit: string): Promise<void> {
  const check = () => drydock(['emit', '-c', config, '-o', e.dir, '--check']);
  const fresh = await check();
  expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);

  const path = join(e.dir, edit);
  const original = await readFile(path, 'utf8');
  await writeFile(path, original + '# edited by hand\n');
  const edited = await check();
  expect(edited.code).toBe(1);
  expect(edited.stdout + edited.stderr).toContain(edit);

  await writeFile(path, original);
  expect((await check()).code).toBe(0);
  await rm(join(e.dir, 'docker-bake.json'));
  const missing = await check();
  expect(missing.code).toBe(1);
  expect(missing.stdout + missing.stderr).toContain('docker-bake.json');
  await writeFile(join(e.dir, 'docker-bake.json'), e.files.get('docker-bake.json')!);
  expect((await check()).code).toBe(0);
}

/** Nothing the emitter writes may need a `# syntax=` frontend: offline, BuildKit cannot fetch it. */
function expectBuiltinFrontend(e: Emitted): void {
  for (const [name, text] of e.files) {
    if (name.endsWith('.Dockerfile')) expect(text, name).not.toMatch(/^#\s*syntax=/im);
  }
}

// ------------------------------------------------------------------------------------------------

describe('examples/hello', () => {
  const config = 'examples/hello';
  let e: Emitted;
  let plain: string;
  let custom: string;

  beforeAll(async () => {
    e = await emit(config, 'hello');
    [plain, custom] = await Promise.all([
      build('hello-default', e, 'hello'),
      build('hello-ahoy', e, 'hello', { args: { GREETING: 'Good day', MOOD: 'excited' } }),
    ]);
  });

  it('emits hello.Dockerfile, its ignore file and a bake target, with GREETING and MOOD kept as ARGs', () => {
    expect([...e.files.keys()].sort()).toEqual([
      'docker-bake.json',
      'hello.Dockerfile',
      'hello.Dockerfile.dockerignore',
    ]);
    expectBuiltinFrontend(e);
    const dockerfile = e.files.get('hello.Dockerfile')!;
    expect(dockerfile).toMatch(/^ARG GREETING=("?)Hello\1$/m);
    expect(dockerfile).toMatch(/^ARG MOOD=("?)calm\1$/m);
    expect(dockerfile).toContain('${GREETING}');
    expect(dockerfile).not.toMatch(/echo "Hello"/);
    expect(e.bake.group.default.targets).toEqual(['hello']);
    expect(target(e, 'hello').context).toBe(join(ROOT, 'examples/hello'));
    expect(e.files.get('hello.Dockerfile.dockerignore')).toContain('!greet.sh');
  });

  it('builds with the defaults and greets', async () => {
    expect((await runOnce(plain)).stdout).toBe('Hello, world.\n');
    expect((await runOnce(plain, ['Ada', 'Grace'])).stdout).toBe('Hello, Ada.\nHello, Grace.\n');
  });

  it('takes --build-arg like drydock takes --arg: the args stayed args', async () => {
    expect((await runOnce(custom, ['Ada'])).stdout).toBe('Good day, Ada!\n');
    const c = await inspect(custom);
    expect(envOf(c).MOOD).toBe('excited');
    expect(c.Labels?.['example.greeting']).toBe('Good day');
    expect(envOf(await inspect(plain)).MOOD).toBe('calm');
  });

  it('runs as nobody with the script as entrypoint and "world" as default argument', async () => {
    const c = await inspect(plain);
    expect(c.User).toBe('nobody');
    expect(c.Entrypoint).toEqual(['/usr/local/bin/greet']);
    expect(c.Cmd).toEqual(['world']);
    const mode = await docker(['run', '--rm', '--entrypoint', 'stat', plain, '-c', '%a %U', '/usr/local/bin/greet']);
    expect(ok('stat greet', mode).stdout.trim()).toBe('755 root');
  });

  it('emit --check passes right after emit and fails once an emitted file changes', async () => {
    await expectCheckCatchesEdits(config, e, 'hello.Dockerfile');
  });

  it('emit --check fails once the config changes', async () => {
    const copy = join(ROOT, 'test/.tmp', `hello-${RUN_ID}`);
    res.dir(copy);
    await mkdir(dirname(copy), { recursive: true });
    await cp(join(ROOT, config), copy, { recursive: true });
    const out = join(copy, 'out');
    ok('emit copy', await drydock(['emit', '-c', copy, '-o', out]));
    expect((await drydock(['emit', '-c', copy, '-o', out, '--check'])).code).toBe(0);
    const file = join(copy, 'images.config.ts');
    await writeFile(file, (await readFile(file, 'utf8')).replace("default: 'Hello'", "default: 'Howdy'"));
    const stale = await drydock(['emit', '-c', copy, '-o', out, '--check']);
    expect(stale.code).toBe(1);
    expect(stale.stdout + stale.stderr).toContain('hello.Dockerfile');
  });
});

// ------------------------------------------------------------------------------------------------

describe('examples/node-api', () => {
  const config = 'examples/node-api';
  /** A value that must never leave the secret: not in emitted files, history, config or layers. */
  const SENTINEL = `drydock-sentinel-${RUN_ID}-${Math.random().toString(36).slice(2)}`;
  let e: Emitted;
  let npmrc: string;
  let port: number;
  let image: string;
  let deps: string;
  let container: string;

  beforeAll(async () => {
    npmrc = join(tmp, 'npmrc');
    await writeFile(npmrc, await npmrcWithSentinel(SENTINEL), { mode: 0o600 });
    e = await emit(config, 'node-api');
    port = await freePort();
    const secret = `id=npmrc,src=${npmrc}`;
    image = await build('node-api', e, 'node-api', { secrets: [secret], args: { PORT: port, APP_VERSION: '2.3.4' } });
    // The stage where the secret was mounted, as an image of its own, to scan its layers too.
    deps = await build('node-api-deps', e, 'node-api', { secrets: [secret], target: 'deps' });
    container = await runDetached(image);
  });

  it('emits a multi-stage Dockerfile with the secret and cache mounts, and a bake target that reads NPMRC_PATH', () => {
    expectBuiltinFrontend(e);
    const dockerfile = e.files.get('node-api.Dockerfile')!;
    for (const stage of ['deps', 'build', 'prod-deps', 'runtime'])
      expect(dockerfile).toMatch(new RegExp(`^FROM .* AS ${stage}$`, 'm'));
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=("?)20\1$/m);
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-slim AS deps$/m);
    expect(dockerfile).toMatch(/--mount=type=secret,id=npmrc,target=\/root\/\.npmrc,required=true/);
    expect(dockerfile).toMatch(/--mount=type=cache,target=\/root\/\.npm/);
    expect(dockerfile).toContain('EXPOSE ${PORT}');
    const bake = target(e, 'node-api').bake;
    expect(bake.secret?.some((s) => s.includes('id=npmrc') && s.includes('NPMRC_PATH'))).toBe(true);
    expect(bake.target).toBe('runtime');
  });

  it('never writes the secret value into emitted files or the graph', async () => {
    for (const [name, text] of e.files) expect(text, name).not.toContain(SENTINEL);
    const graph = ok(
      'graph',
      await drydock(['graph', '-c', config, '--format', 'json'], { env: { NPMRC_PATH: npmrc } }),
    );
    expect(graph.stdout).toContain('npmrc');
    expect(graph.stdout).not.toContain(SENTINEL);
  });

  it('fails to build without the secret (it is required)', async () => {
    const args = buildArgs(tagFor('node-api-nosecret'), e, 'node-api', { target: 'deps', noCache: true });
    const r = await docker(args);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/secret npmrc not found/);
  });

  it('answers HTTP on the PORT given as --build-arg, as uid 1000, and turns healthy', async () => {
    const root = await httpGet(`http://127.0.0.1:${port}/`);
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body)).toMatchObject({ service: 'node-api', version: '2.3.4', port, uid: 1000 });
    expect(JSON.parse(root.body).node).toMatch(/^v20\./);
    expect(JSON.parse((await httpGet(`http://127.0.0.1:${port}/add?a=2&b=40`)).body)).toEqual({ sum: 42 });
    expect((await httpGet(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    await waitHealthy(container);
  });

  it('runs as node from /app with PORT in ENV and EXPOSE, labels and a healthcheck', async () => {
    const c = await inspect(image);
    expect(c.User).toBe('node');
    expect(c.WorkingDir).toBe('/app');
    expect(Object.keys(c.ExposedPorts ?? {})).toEqual([`${port}/tcp`]);
    expect(envOf(c)).toMatchObject({ PORT: String(port), NODE_ENV: 'production', APP_VERSION: '2.3.4' });
    expect(c.Labels).toMatchObject({
      'org.opencontainers.image.title': 'node-api',
      'org.opencontainers.image.version': '2.3.4',
    });
    expect(c.Healthcheck?.Test[0]).toBe('CMD');
    expect(c.Healthcheck?.Test.slice(1, 3)).toEqual(['node', '-e']);
    expect(c.Cmd).toEqual(['node', 'dist/server.js']);
  });

  it('ships compiled code and runtime dependencies only', async () => {
    const r = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      image,
      '-c',
      'ls dist node_modules; test ! -e node_modules/typescript && test ! -e src && echo clean',
    ]);
    const out = ok('ls', r).stdout;
    expect(out).toContain('server.js');
    expect(out).toContain('routes.js');
    expect(out).toContain('ms');
    expect(out).toContain('clean');
  });

  it('leaves no trace of the secret in history, image config or any layer', async () => {
    for (const tag of [image, deps]) {
      const history = ok('docker history', await docker(['history', '--no-trunc', tag]));
      expect(history.stdout).toContain(tag === deps ? 'npm ci' : 'COPY /app/dist');
      expect(history.stdout).not.toContain(SENTINEL);
      expect(ok('inspect', await docker(['image', 'inspect', tag])).stdout).not.toContain(SENTINEL);
      const tar = join(tmp, `${tag.replace(/[/:]/g, '_')}.tar`);
      ok('docker save', await docker(['save', '-o', tar, tag]));
      expect(await fileContains(tar, SENTINEL), `docker save ${tag}`).toBe(false);
      // The scan itself works: the tarball does hold other strings from the same step.
      expect(await fileContains(tar, tag === deps ? 'typescript' : 'node-api')).toBe(true);
      await rm(tar);
    }
  });

  it('emit --check passes right after emit and fails once an emitted file changes', async () => {
    await expectCheckCatchesEdits(config, e, 'node-api.Dockerfile');
  });
});

// ------------------------------------------------------------------------------------------------

describe('examples/monorepo', () => {
  const config = 'examples/monorepo';
  let e: Emitted;
  let apiPort: number;
  let webPort: number;
  let api: string;
  let worker: string;
  let web: string;

  beforeAll(async () => {
    e = await emit(config, 'monorepo');
    [apiPort, webPort] = [await freePort(), await freePort()];
    [api, worker, web] = await Promise.all([
      build('monorepo-api', e, 'api', { args: { API_PORT: apiPort, RELEASE: '2.0.0' } }),
      build('monorepo-worker', e, 'worker'),
      build('monorepo-web', e, 'web', { args: { WEB_PORT: webPort } }),
    ]);
  });

  it('emits one Dockerfile per image and a bake file building all three from their own folders', () => {
    expectBuiltinFrontend(e);
    expect([...e.files.keys()].sort()).toEqual([
      'api.Dockerfile',
      'api.Dockerfile.dockerignore',
      'docker-bake.json',
      'web.Dockerfile',
      'web.Dockerfile.dockerignore',
      'worker.Dockerfile',
      'worker.Dockerfile.dockerignore',
    ]);
    expect([...e.bake.group.default.targets].sort()).toEqual(['api', 'web', 'worker']);
    for (const image of ['api', 'worker', 'web']) {
      expect(target(e, image).context).toBe(join(ROOT, config, 'services', image));
    }
    // The shared stage builder made the same test stage for both node services.
    const testStage = (f: string) => e.files.get(f)!.match(/^FROM .* AS test$[\s\S]*?(?=^FROM )/m)?.[0];
    expect(testStage('api.Dockerfile')).toContain('node --test');
    expect(testStage('api.Dockerfile')).toBe(testStage('worker.Dockerfile'));
  });

  it('api answers HTTP on API_PORT as node and turns healthy', async () => {
    const id = await runDetached(api);
    const quote = await httpGet(`http://127.0.0.1:${apiPort}/quotes/2`);
    expect(quote.status).toBe(200);
    expect(JSON.parse(quote.body)).toEqual({ id: 2, text: 'Make it work, make it right, make it fast.' });
    expect(JSON.parse((await httpGet(`http://127.0.0.1:${apiPort}/quotes`)).body)).toEqual({ count: 3 });
    expect((await httpGet(`http://127.0.0.1:${apiPort}/quotes/9`)).status).toBe(404);
    await waitHealthy(id);
    const c = await inspect(api);
    expect(c.User).toBe('node');
    expect(Object.keys(c.ExposedPorts ?? {})).toEqual([`${apiPort}/tcp`]);
    expect(envOf(c)).toMatchObject({ PORT: String(apiPort), RELEASE: '2.0.0', NODE_ENV: 'production' });
    expect(c.Labels?.['org.opencontainers.image.version']).toBe('2.0.0');
  });

  it('worker runs JSON-lines jobs from stdin', async () => {
    const jobs = [
      { id: 1, type: 'wordcount', input: 'ship it  today' },
      { id: 2, type: 'sum', input: [1, 2, 39] },
      { id: 3, type: 'teleport' },
    ];
    const r = await runOnce(worker, [], jobs.map((j) => JSON.stringify(j)).join('\n') + '\n');
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { worker: 'worker', id: 1, ok: true, result: 3 },
      { worker: 'worker', id: 2, ok: true, result: 42 },
      { worker: 'worker', id: 3, ok: false, error: 'unknown job type "teleport"' },
    ]);
    expect(r.stderr).toContain('worker: 3 job(s) done');
    const c = await inspect(worker);
    expect(c.User).toBe('node');
    expect(envOf(c)).toMatchObject({ WORKER_NAME: 'worker', RELEASE: '0.1.0' });
  });

  it('node images hold the tested sources without their tests', async () => {
    for (const tag of [api, worker]) {
      const r = await docker(['run', '--rm', '--entrypoint', 'find', tag, '/srv', '-name', '*.js']);
      const files = ok('find', r).stdout.trim().split('\n').sort();
      expect(files.length).toBe(2);
      expect(files.some((f) => f.endsWith('.test.js'))).toBe(false);
    }
  });

  it('a failing unit test fails the build', async () => {
    const broken = join(tmp, 'worker-broken');
    await cp(join(ROOT, config, 'services/worker'), broken, { recursive: true });
    const jobs = join(broken, 'src/jobs.js');
    await writeFile(jobs, (await readFile(jobs, 'utf8')).replace("reverse().join('')", "join('')"));
    const r = await docker(buildArgs(tagFor('monorepo-worker-broken'), e, 'worker', { context: broken }));
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/node --test/);
    expect(r.stdout + r.stderr).toMatch(/# fail [1-9]/);
  });

  it('web serves the static site with busybox httpd as nobody', async () => {
    await runDetached(web);
    const index = await httpGet(`http://127.0.0.1:${webPort}/`);
    expect(index.status).toBe(200);
    expect(index.body).toContain('drydock monorepo example');
    expect((await httpGet(`http://127.0.0.1:${webPort}/release.txt`)).body).toBe('0.1.0\n');
    expect(JSON.parse((await httpGet(`http://127.0.0.1:${webPort}/status.json`)).body)).toEqual({
      service: 'web',
      ok: true,
    });
    const c = await inspect(web);
    expect(c.User).toBe('nobody');
    expect(Object.keys(c.ExposedPorts ?? {})).toEqual([`${webPort}/tcp`]);
  });

  it('emit --check passes right after emit and fails once an emitted file changes', async () => {
    await expectCheckCatchesEdits(config, e, 'worker.Dockerfile');
  });

  it('emit IMAGE writes only that image', async () => {
    const only = await emit(config, 'monorepo-web-only', ['web']);
    expect([...only.files.keys()].sort()).toEqual([
      'docker-bake.json',
      'web.Dockerfile',
      'web.Dockerfile.dockerignore',
    ]);
    expect(only.files.get('web.Dockerfile')).toBe(e.files.get('web.Dockerfile'));
    expect(only.bake.group.default.targets).toEqual(['web']);
  });
});
