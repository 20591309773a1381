/**
 * The corpus, built by BuildKit from the emitted Dockerfile and by drydock's own engine: each test
 * names one feature, checks the BuildKit image really shows it (so the case tests what it says),
 * then requires drydock's image to be the same, listing every differing entry or config field.
 *
 * Every build starts at once in the file's `beforeAll`; each test waits for its own pair, so an
 * image that fails to build fails only its own tests. Needs root and the bench
 * (`bash test/env/setup.sh`) and the built CLI (`npm run build`).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileContains, ok } from '../e2e/helpers.js';
import { docker } from './proc.js';
import { entry, expectSameImage, text, under, type Snapshot } from './compare.js';
import { Bench, startAll, type BuildSpec, type Pair } from './harness.js';

const bench = new Bench();
const corpus = (name: string) => bench.config(`test/equivalence/corpus/${name}`);
const filesystem = corpus('filesystem');
const metadata = corpus('metadata');
const context = corpus('context');
const stages = corpus('stages');
const mounts = corpus('mounts');

const RUN_ID = bench.runId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
/** Secret values: nothing built may contain them. */
const TOKEN = `equivalence-token-${randomBytes(12).toString('hex')}`;
const PASSWORD = `equivalence-password-${randomBytes(9).toString('hex')}`;

let pairs: Record<string, Promise<Pair>>;
/** The cache-mount image built twice on each side, the second run after the first. */
let cacheRuns: Promise<[Pair, Pair]>;
let secretSpec: BuildSpec;

beforeAll(async () => {
  await bench.setup();
  const tokenFile = join(bench.tmp, 'token');
  await writeFile(tokenFile, TOKEN, { mode: 0o600 });
  secretSpec = {
    image: 'secret-mount',
    secrets: [
      { id: 'token', file: tokenFile },
      { id: 'password', env: 'EQUIV_PASSWORD', value: PASSWORD },
    ],
  };
  const one =
    (config: ReturnType<typeof corpus>, image: string, spec: Omit<BuildSpec, 'image'> = {}) =>
    () =>
      config.pair(image, { image, ...spec });
  pairs = startAll({
    whiteout: one(filesystem, 'whiteout'),
    opaque: one(filesystem, 'opaque'),
    links: one(filesystem, 'links'),
    modes: one(filesystem, 'modes'),
    'copy-modes': one(filesystem, 'copy-modes'),
    'env-args': one(metadata, 'env-args'),
    'env-args-overridden': () =>
      metadata.pair('env-args-overridden', {
        image: 'env-args',
        args: { GREETING: 'ahoy-there', LEVEL: 7, FLAVOUR: 'spicy' },
      }),
    'workdir-user': one(metadata, 'workdir-user'),
    words: one(metadata, 'words'),
    'from-arg': one(metadata, 'from-arg'),
    'from-arg-overridden': () =>
      metadata.pair('from-arg-overridden', { image: 'from-arg', args: { BUSYBOX_TAG: '1.35' } }),
    'optional-and-owned': one(mounts, 'optional-and-owned'),
    'seeded-cache': one(mounts, 'seeded-cache'),
    'image-config': one(metadata, 'image-config'),
    'shell-forms': one(metadata, 'shell-forms'),
    'ignore-rules': one(context, 'ignore-rules'),
    globs: one(context, 'globs'),
    'multi-source': one(context, 'multi-source'),
    'add-tar': one(context, 'add-tar'),
    'add-compressed': one(context, 'add-compressed'),
    'multi-stage': one(stages, 'multi-stage'),
    'multi-stage-target': () => stages.pair('multi-stage-target', { image: 'multi-stage', target: 'builder' }),
    'secret-mount': () => mounts.pair('secret-mount', secretSpec),
  });
  // When BuildKit stands in for drydock, both sides share BuildKit's cache: each counts apart.
  const cacheSpec = (bust: number, side = ''): BuildSpec => ({
    image: 'cache-mount',
    args: { RUN_ID: RUN_ID + side, BUST: bust },
    noCache: false,
  });
  cacheRuns = (async () => {
    const first = await mounts.pair('cache-1', cacheSpec(1), cacheSpec(1, '-b'));
    const second = await mounts.pair('cache-2', cacheSpec(2), cacheSpec(2, '-b'));
    return [first, second] as [Pair, Pair];
  })();
  cacheRuns.catch(() => undefined);
});

afterAll(() => bench.cleanup());

/**
 * Waits for an image's pair; `check` (what the feature must do) runs on the BuildKit side, then
 * the two images are compared.
 */
async function same(name: string, check: (s: Snapshot) => void = () => undefined): Promise<Pair> {
  const pair = await pairs[name]!;
  check(pair.buildkit);
  expectSameImage(name, pair.buildkit, pair.drydock);
  return pair;
}

const mode = (s: Snapshot, path: string) => entry(s, path).mode.toString(8).padStart(4, '0');
const owner = (s: Snapshot, path: string) => `${entry(s, path).uid}:${entry(s, path).gid}`;

// ------------------------------------------------------------------------------------------------

describe('filesystem changes made by RUN', () => {
  it('keeps whiteouts of deleted base files and directories', async () => {
    await same('whiteout', (s) => {
      for (const gone of ['/etc/group', '/bin/vi', '/home']) expect(s.fs.has(gone), gone).toBe(false);
      expect(text(s, '/etc/kept')).toBe('kept\n');
      expect(entry(s, '/bin/busybox').type).toBe('file');
    });
  });

  it('makes a directory removed and made again opaque: only its new content remains', async () => {
    await same('opaque', (s) => {
      expect(under(s, '/opt/d')).toEqual(['/opt/d/x']);
      expect(under(s, '/var')).toEqual(['/var/x']);
    });
  });

  it('keeps absolute, relative and dangling symlinks, and hardlinks (also to a base file)', async () => {
    await same('links', (s) => {
      expect(entry(s, '/links/absolute')).toMatchObject({ type: 'symlink', linkname: '/links/dir/file' });
      expect(entry(s, '/links/relative')).toMatchObject({ type: 'symlink', linkname: 'dir/file' });
      expect(entry(s, '/links/dangling')).toMatchObject({ type: 'symlink', linkname: '../nowhere/at/all' });
      expect(entry(s, '/links/dirlink')).toMatchObject({ type: 'symlink', linkname: 'dir' });
      expect(entry(s, '/links/hard')).toMatchObject({ type: 'hardlink', linkname: '/links/dir/file' });
      expect(entry(s, '/links/hard2')).toMatchObject({ type: 'hardlink', linkname: '/links/dir/file' });
      expect(entry(s, '/links/busybox-hard')).toMatchObject({ type: 'hardlink', linkname: '/bin/busybox' });
    });
  });

  it('keeps setuid, setgid and sticky bits, odd modes, numeric owners and fifos', async () => {
    await same('modes', (s) => {
      expect(mode(s, '/modes/setuid')).toBe('4755');
      expect(mode(s, '/modes/setgid')).toBe('2711');
      expect(mode(s, '/modes/sticky')).toBe('1777');
      expect(mode(s, '/modes/private')).toBe('0700');
      expect(mode(s, '/modes/none')).toBe('0000');
      expect(mode(s, '/etc')).toBe('0750');
      expect(owner(s, '/modes/owned')).toBe('1000:1000');
      expect(owner(s, '/modes/owned/file')).toBe('1000:1000');
      expect(owner(s, '/modes/nobody')).toBe('65534:0');
      expect(entry(s, '/modes/fifo')).toMatchObject({ type: 'fifo', mode: 0o620 });
    });
  });

  it('applies COPY --chown by name and by number and --chmod, and keeps a context file executable', async () => {
    await same('copy-modes', (s) => {
      expect(owner(s, '/copied/by-name.txt')).toBe('65534:65534');
      expect(owner(s, '/copied/by-number.txt')).toBe('1000:1000');
      expect(mode(s, '/copied/chmod.txt')).toBe('0750');
      expect(mode(s, '/copied/tool.sh')).toBe('0755');
      expect(`${owner(s, '/copied/tree/plain.txt')} ${mode(s, '/copied/tree/plain.txt')}`).toBe('1000:1000 0700');
    });
  });
});

describe('ENV, ARG, WORKDIR and USER scoping', () => {
  it('expands ENV values from earlier ENVs and args from their defaults', async () => {
    const { buildkit } = await same('env-args', (s) => {
      expect(text(s, '/out/env')).toMatch(/^one one-two one-two-three \/opt\/bin:\/usr\/local\/sbin:/);
      expect(text(s, '/out/args')).toBe('hello 3\n');
      expect(text(s, '/out/flavour')).toBe('plain\n');
    });
    expect(buildkit.config.Labels).toEqual({ greeting: 'hello', level: '3' });
  });

  it('takes --arg overrides like docker build takes --build-arg', async () => {
    const { buildkit } = await same('env-args-overridden', (s) => {
      expect(text(s, '/out/args')).toBe('ahoy-there 7\n');
      expect(text(s, '/out/flavour')).toBe('spicy\n');
    });
    expect(buildkit.config.Env).toContain('GREETING_ENV=ahoy-there');
    expect(buildkit.config.Env).toContain('LEVEL_ENV=level-7');
  });

  it('chooses the base image with an arg in FROM, by default and overridden', async () => {
    await same('from-arg', (s) => expect(text(s, '/tag')).toBe('latest\n'));
    await same('from-arg-overridden', (s) => expect(text(s, '/tag')).toBe('1.35\n'));
  });

  it('creates WORKDIRs, resolves a relative one, and runs RUN as a USER given by name', async () => {
    const { buildkit } = await same('workdir-user', (s) => {
      expect(text(s, '/tmp/pwd-root')).toBe('/srv/app/data/nested\n');
      expect(text(s, '/tmp/id-app')).toBe('uid=1500(app) gid=1500(app) groups=1500(app)\n');
      expect(owner(s, '/tmp/id-app')).toBe('1500:1500');
      expect(owner(s, '/home/app/made-by-app')).toBe('1500:1500');
      expect(entry(s, '/made/by/workdir').type).toBe('dir');
    });
    expect(buildkit.config.WorkingDir).toBe('/made/by/workdir');
    expect(buildkit.config.User).toBe('app');
  });
});

describe('Dockerfile word expansion', () => {
  it('expands ENV in ENV (defaults, alternatives, escapes, quotes), WORKDIR, COPY, USER, LABEL and VOLUME', async () => {
    const { buildkit } = await same('words', (s) => {
      expect(text(s, '/words/env')).toBe(
        `has  two  spaces|say "hi" and 'bye'|fallback|alt|$BASE_DIR||hello-from-arg\n`,
      );
      expect(text(s, '/opt/base/copied/x.txt')).toBe('a file to copy\n');
      expect(entry(s, '/opt/base/work').type).toBe('dir');
      expect(text(s, '/tmp/uid')).toBe('65534\n');
    });
    expect(buildkit.config).toMatchObject({
      WorkingDir: '/opt/base/work',
      Labels: { 'label.with.env': '/opt/base', quoted: 'a "q" b', dollar: 'costs $5' },
      Volumes: { '/opt/base/vol': {} },
      User: 'root',
    });
    expect(buildkit.config.Env).toEqual(expect.arrayContaining(['EMPTY=', 'ESCAPED=$BASE_DIR', 'DEFAULTED=fallback']));
  });
});

describe('image config', () => {
  it('records HEALTHCHECK, VOLUME, EXPOSE, STOPSIGNAL, LABEL, ENTRYPOINT+CMD, SHELL and ONBUILD', async () => {
    const { buildkit } = await same('image-config', (s) => {
      expect(text(s, '/shell-used')).toBe('shell: /bin/sh ce\n'); // busybox prints the flags as it likes
    });
    expect(buildkit.config).toMatchObject({
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo hello from cmd'],
      ExposedPorts: { '8080/tcp': {}, '9090/udp': {}, '53/tcp': {} },
      Volumes: { '/data': {}, '/var/log/app': {} },
      StopSignal: 'SIGINT',
      Shell: ['/bin/sh', '-ec'],
      OnBuild: ['RUN echo built-on-top > /onbuild'],
      User: '65534:65534',
      Healthcheck: { Test: ['CMD', 'test', '-e', '/shell-used'], Retries: 4 },
    });
  });

  it('records shell-form ENTRYPOINT and HEALTHCHECK, a numeric STOPSIGNAL and a stage WORKDIR', async () => {
    const { buildkit } = await same('shell-forms');
    expect(buildkit.config).toMatchObject({
      Entrypoint: ['/bin/sh', '-c', 'exec echo from-entrypoint'],
      Healthcheck: { Test: ['CMD-SHELL', 'test -d /w'] },
      StopSignal: '9',
      WorkingDir: '/w',
    });
  });
});

describe('the build context', () => {
  it('applies .dockerignore negations, directory excludes and the config ignore to COPY .', async () => {
    await same('ignore-rules', (s) => {
      const files = under(s, '/ctx').filter((p) => entry(s, p).type === 'file');
      for (const kept of ['keep.log', 'sub/b.log', 'sub/d.txt', 'docs/public.md', 'src/main.txt', 'data/one.json'])
        expect(files, kept).toContain(`/ctx/${kept}`);
      for (const gone of [
        'a.log',
        'sub/c.bak',
        'tmp/junk.txt',
        'docs/private.md',
        'secret.txt',
        'data/nested/three.json',
      ])
        expect(files, gone).not.toContain(`/ctx/${gone}`);
    });
  });

  it('copies what globs select, into the destination directory', async () => {
    await same('globs', (s) => {
      expect(under(s, '/globs/txt')).toEqual(['/globs/txt/main.txt', '/globs/txt/util.txt']);
      expect(under(s, '/globs/json')).toEqual(['/globs/json/one.json', '/globs/json/two.json']);
      expect(under(s, '/globs/single')).toEqual(['/globs/single/main.txt']);
      expect(under(s, '/globs/logs')).toEqual(['/globs/logs/keep.log']);
    });
  });

  it('copies several sources into one directory: files, and the contents of directories', async () => {
    await same('multi-source', (s) => {
      expect(under(s, '/multi')).toEqual([
        '/multi/main.txt',
        '/multi/nested',
        '/multi/nested/three.json',
        '/multi/one.json',
        '/multi/tool.sh',
        '/multi/two.json',
      ]);
      expect(under(s, '/merged')).toEqual([
        '/merged/b.log',
        '/merged/d.txt',
        '/merged/main.txt',
        '/merged/readme.md',
        '/merged/util.txt',
      ]);
      expect(mode(s, '/bin-dir/tool.sh')).toBe('0755');
      expect(text(s, '/renamed.txt')).toBe('content of src/main.txt\n');
    });
  });

  it('extracts local tar and tar.gz archives with ADD, keeping their owners, modes and links', async () => {
    await same('add-tar', (s) => {
      for (const root of ['/unpacked/plain/top', '/unpacked/gz/top']) {
        expect(`${owner(s, `${root}/file.txt`)} ${mode(s, `${root}/file.txt`)}`).toBe('1234:5678 0640');
        expect(mode(s, `${root}/setuid`)).toBe('4755');
        expect(entry(s, `${root}/link`)).toMatchObject({ type: 'symlink', linkname: 'file.txt' });
        expect(entry(s, `${root}/hard`)).toMatchObject({ type: 'hardlink', linkname: `${root}/file.txt` });
        expect(`${owner(s, `${root}/sub`)} ${mode(s, `${root}/sub`)}`).toBe('1000:1000 0700');
      }
      expect(text(s, '/added/main.txt')).toBe('content of src/main.txt\n');
    });
  });
});

describe('ADD of archives', () => {
  it('extracts xz and bzip2 tars, copies a non-archive named .tar.gz, merges into an existing directory', async () => {
    await same('add-compressed', (s) => {
      for (const root of ['/xz/top', '/bz2/top', '/merged/top']) {
        expect(`${owner(s, `${root}/file.txt`)} ${mode(s, `${root}/file.txt`)}`).toBe('1234:5678 0640');
        expect(text(s, `${root}/file.txt`)).toBe('file in a tar\n');
      }
      expect(text(s, '/fake/fake.tar.gz')).toBe('not really an archive\n');
      expect(text(s, '/merged/top/other')).toBe('kept\n');
      // docker 20.10's BuildKit leaves extracted entries with the archive's owners despite --chown.
      expect(owner(s, '/chowned/top/file.txt')).toBe('1234:5678');
      expect(entry(s, '/chmodded/top/file.txt').type).toBe('file');
    });
  });
});

describe('multi-stage builds', () => {
  it('copies from another stage and an image, and never builds the unused stage', async () => {
    const { buildkit } = await same('multi-stage', (s) => {
      expect(mode(s, '/app/artifact')).toBe('4750');
      expect(mode(s, '/app/lib')).toBe('0751');
      expect(entry(s, '/app/current')).toMatchObject({ type: 'symlink', linkname: 'lib/one' });
      expect(owner(s, '/single/artifact')).toBe('1000:1000');
      // A symlink named as the source is followed: its target's content is copied.
      expect(entry(s, '/single/current')).toMatchObject({ type: 'file', mode: 0o644 });
      expect(text(s, '/single/current')).toBe('lib\n');
      expect(text(s, '/app-current')).toBe('lib\n');
      expect(entry(s, '/from-image/busybox').type).toBe('file');
    });
    expect(buildkit.config.Cmd).toEqual(['cat', '/app/artifact']);
  });

  it('builds an intermediate stage with --target', async () => {
    const { buildkit } = await same('multi-stage-target', (s) => {
      expect(text(s, '/out/artifact')).toBe('artifact\n');
      expect(s.fs.has('/app')).toBe(false);
    });
    expect(buildkit.config.WorkingDir).toBe('/out');
  });
});

describe('RUN mounts', () => {
  it('runs a cache mount whose cache persists between two builds, on each side', async () => {
    const [first, second] = await cacheRuns;
    for (const [n, pair] of [first, second].entries()) {
      for (const s of [pair.buildkit, pair.drydock]) {
        expect(text(s, '/runs-before'), `${s.side} build ${n + 1}: runs the cache saw before`).toBe(`${n}\n`);
        expect(text(s, '/bust'), `${s.side} build ${n + 1}`).toBe(`${n + 1}\n`);
      }
    }
  });

  it("keeps the cache mount's content out of the image, on each side", async () => {
    for (const pair of await cacheRuns) {
      for (const s of [pair.buildkit, pair.drydock]) {
        expect(under(s, '/cache'), `${s.side}: files under /cache`).toEqual([]);
      }
    }
  });

  it('builds the same image with a cache mount', async () => {
    const [first, second] = await cacheRuns;
    expectSameImage('cache-mount build 1', first.buildkit, first.drydock);
    expectSameImage('cache-mount build 2', second.buildkit, second.drydock);
  });

  it('skips an optional secret that is not given; a cache mount gets its owner and mode', async () => {
    await same('optional-and-owned', (s) => {
      expect(text(s, '/out/absent')).toBe('absent\n');
      expect(text(s, '/out/owned-cache')).toBe('1000:1000 700\n');
    });
  });

  it("seeds a cache mount from another stage's directory", async () => {
    await same('seeded-cache', (s) => expect(text(s, '/out/seeded')).toBe('seeded\n'));
  });

  it('never stores secret values: not in any file, layer, history or config, on each side', async () => {
    const pair = await pairs['secret-mount']!;
    for (const s of [pair.buildkit, pair.drydock]) await expectNoSecrets(s);
  });

  it('builds the same image with secret mounts (from a file and from an env var) whose values RUN used', async () => {
    await same('secret-mount', (s) => {
      expect(text(s, '/out/token-length')).toBe(`${TOKEN.length}\n`);
      expect(text(s, '/out/password-length')).toBe(`${PASSWORD.length}\n`);
      expect(text(s, '/out/mode')).toBe('-r--------\n');
    });
  });
});

/** Scans everything docker can show of an image for the secret values. */
async function expectNoSecrets(s: Snapshot): Promise<void> {
  for (const [path, e] of s.fs) {
    if (e.content) expect(e.content.includes(TOKEN) || e.content.includes(PASSWORD), `${s.side} ${path}`).toBe(false);
  }
  const history = ok('docker history', await docker(['history', '--no-trunc', s.tag])).stdout;
  expect(history).toContain('wc -c'); // the scan reads the right thing
  const inspected = ok('docker image inspect', await docker(['image', 'inspect', s.tag])).stdout;
  const base = join(bench.tmp, `${s.side}-secret`);
  ok('docker save', await docker(['save', '-o', `${base}.save.tar`, s.tag]));
  const created = ok('docker create', await docker(['create', s.tag, '/never-started'])).stdout.trim();
  try {
    ok('docker export', await docker(['export', '-o', `${base}.export.tar`, created]));
  } finally {
    await docker(['rm', '-f', created]);
  }
  for (const secret of [TOKEN, PASSWORD]) {
    expect(history, `${s.side} history`).not.toContain(secret);
    expect(inspected, `${s.side} inspect`).not.toContain(secret);
    expect(await fileContains(`${base}.save.tar`, secret), `${s.side} docker save`).toBe(false);
    expect(await fileContains(`${base}.export.tar`, secret), `${s.side} docker export`).toBe(false);
  }
  // The scan can find things: a string the layers do hold.
  expect(await fileContains(`${base}.export.tar`, 'password-length')).toBe(true);
}
