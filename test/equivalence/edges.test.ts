/**
 * The harder corpus cases (corpus/edges and corpus/inheritance), built by BuildKit and by drydock
 * and compared as in corpus.test.ts: each test checks the BuildKit image shows the feature, then
 * requires drydock's image to be the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entry, expectSameImage, text, under, type Snapshot } from './compare.js';
import { Bench, startAll, type Pair } from './harness.js';

const bench = new Bench();
const edges = bench.config('test/equivalence/corpus/edges');
const inheritance = bench.config('test/equivalence/corpus/inheritance');
const LONG =
  '/names/a-directory-name-long-enough/to-push-the-whole-path-past/the-hundred-bytes-of-a-plain-ustar-header';

let pairs: Record<string, Promise<Pair>>;

beforeAll(async () => {
  await bench.setup();
  const of = (config: typeof edges, image: string) => () => config.pair(image, { image });
  pairs = startAll({
    'type-changes': of(edges, 'type-changes'),
    'metadata-only': of(edges, 'metadata-only'),
    'later-links': of(edges, 'later-links'),
    names: of(edges, 'names'),
    devices: of(edges, 'devices'),
    'numeric-user': of(edges, 'numeric-user'),
    'copy-owners': of(edges, 'copy-owners'),
    'other-mounts': of(edges, 'other-mounts'),
    'copy-onto-symlink': of(edges, 'copy-onto-symlink'),
    'node-whiteouts': of(edges, 'node-whiteouts'),
    'exec-form': of(edges, 'exec-form'),
    'entrypoint-only': of(inheritance, 'entrypoint-only'),
    'node-cmd': of(inheritance, 'node-cmd'),
    'from-stage': of(inheritance, 'from-stage'),
  });
});

afterAll(() => bench.cleanup());

async function same(name: string, check: (s: Snapshot) => void = () => undefined): Promise<Pair> {
  const pair = await pairs[name]!;
  check(pair.buildkit);
  expectSameImage(name, pair.buildkit, pair.drydock);
  return pair;
}

const mode = (s: Snapshot, path: string) => entry(s, path).mode.toString(8).padStart(4, '0');
const owner = (s: Snapshot, path: string) => `${entry(s, path).uid}:${entry(s, path).gid}`;

describe('harder filesystem changes', () => {
  it('changes a path from file to directory, directory to file, symlink to directory, file to symlink', async () => {
    await same('type-changes', (s) => {
      expect(entry(s, '/bin/vi').type).toBe('dir');
      expect(text(s, '/bin/vi/inside')).toBe('now-a-dir\n');
      expect(text(s, '/home')).toBe('now-a-file\n');
      expect(entry(s, '/linuxrc').type).toBe('dir');
      expect(entry(s, '/made-file')).toMatchObject({ type: 'symlink', linkname: '/etc/passwd' });
      expect(text(s, '/made-dir')).toBe('file\n');
    });
  });

  it('keeps metadata-only changes of base files (chmod, chown, touch)', async () => {
    await same('metadata-only', (s) => {
      expect(mode(s, '/bin/busybox')).toBe('0700');
      expect(owner(s, '/etc/passwd')).toBe('1:2');
      expect(mode(s, '/root')).toBe('0711');
    });
  });

  it('keeps hardlinks made in a later step to a file of an earlier one, and appended content', async () => {
    await same('later-links', (s) => {
      expect(entry(s, '/data/link-later')).toMatchObject({ type: 'hardlink', linkname: '/data/file' });
      expect(entry(s, '/link-elsewhere')).toMatchObject({ type: 'hardlink', linkname: '/data/file' });
      expect(text(s, '/data/log')).toBe('log\nmore\n');
    });
  });

  it('keeps long paths and link targets, spaces, unicode, a mode-000 directory and a sparse file', async () => {
    await same('names', (s) => {
      expect(text(s, `${LONG}/file-with-a-name-that-is-long-too.txt`)).toBe('long\n');
      expect(entry(s, '/names/long-target').linkname).toBe(`${LONG}/file-with-a-name-that-is-long-too.txt`);
      expect(text(s, '/names/with space.txt')).toBe('spaced\n');
      expect(text(s, '/names/ünïcødé-名前.txt')).toBe('unicode\n');
      expect(text(s, '/names/-dash')).toBe('dash\n');
      expect(mode(s, '/names/closed')).toBe('0000');
      expect(entry(s, '/names/sparse').size).toBe(3_000_001);
    });
  });

  it('keeps device nodes made with mknod', async () => {
    await same('devices', (s) => {
      expect(entry(s, '/devs/null')).toMatchObject({ type: 'char', device: '1:3', mode: 0o666 });
      expect(entry(s, '/devs/loop')).toMatchObject({ type: 'block', device: '7:200', mode: 0o660 });
    });
  });

  it('runs RUN as numeric users unknown to /etc/passwd; their files keep those ids', async () => {
    await same('numeric-user', (s) => {
      expect(owner(s, '/shared/by-1234')).toBe('1234:5678');
      expect(text(s, '/shared/id')).toBe('uid=1234 gid=5678\n');
      expect(owner(s, '/shared/by-4321')).toBe('4321:0');
    });
  });

  it("applies COPY's owner rules (uid only, name only), copies through a symlinked directory, creates parents", async () => {
    await same('copy-owners', (s) => {
      expect(owner(s, '/owned/uid-only.txt')).toBe('1000:1000');
      expect(owner(s, '/owned/name-only.txt')).toBe('65534:65534');
      expect(text(s, '/real/two.txt')).toBe('two\n');
      expect(entry(s, '/via-link').type).toBe('symlink');
      expect(owner(s, '/nested/created/on/the/way/inner/deep.txt')).toBe('7:8');
      expect(under(s, '/no-slash-dir')).toEqual(['/no-slash-dir/one.txt', '/no-slash-dir/two.txt']);
    });
  });

  it('uses bind mounts (context, another stage) and a tmpfs without storing them', async () => {
    await same('other-mounts', (s) => {
      expect(text(s, '/out/from-context')).toBe('one\n');
      expect(text(s, '/out/context-listing')).toBe('dir\none.txt\ntwo.txt\n');
      expect(text(s, '/out/from-stage')).toBe('from-tools\n');
      expect(text(s, '/out/tmpfs-listing')).toBe('file\n');
      expect(text(s, '/out/rw-listing')).toBe('dir\nnew\none.txt\ntwo.txt\n');
      expect(under(s, '/rw')).toEqual([]);
      expect(s.fs.has('/tools')).toBe(false);
      expect(under(s, '/scratch')).toEqual([]);
      expect(under(s, '/ctx')).toEqual([]);
    });
  });
});

describe('more RUN and COPY cases', () => {
  it('COPY onto a path that is a symlink in the base', async () => {
    await same('copy-onto-symlink', (s) => {
      const linuxrc = entry(s, '/linuxrc');
      expect(linuxrc.type === 'file' ? text(s, '/linuxrc') : linuxrc.linkname).toBeDefined();
    });
  });

  it('whites out files and makes a directory opaque over a multi-layer base', async () => {
    await same('node-whiteouts', (s) => {
      expect(under(s, '/usr/local/include/node')).toEqual(['/usr/local/include/node/x']);
      expect(s.fs.has('/usr/local/bin/npx')).toBe(false);
      expect(s.fs.has('/etc/debian_version')).toBe(false);
    });
  });

  it('runs exec-form RUN without a shell', async () => {
    await same('exec-form', (s) => {
      expect(text(s, '/exec-shell')).toBe('env /root\n');
      expect(entry(s, '/exec/$WHO').type).toBe('dir');
    });
  });
});

describe('inherited image config', () => {
  it("drops the base image's CMD when the stage sets only ENTRYPOINT", async () => {
    const { buildkit } = await same('entrypoint-only');
    expect(buildkit.config).toMatchObject({ Entrypoint: ['/bin/echo', 'hi'], Cmd: null });
  });

  it("keeps the base image's Env, extended, and replaces its CMD", async () => {
    const { buildkit } = await same('node-cmd', (s) => {
      expect(entry(s, '/usr/local/bin/node').type).toBe('file');
    });
    expect(buildkit.config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production']));
    expect((buildkit.config.Env as string[]).find((e) => e.startsWith('PATH='))).toMatch(/^PATH=\/app\/bin:\/usr/);
    expect(buildkit.config.Cmd).toEqual(['node', '--version']);
  });

  it('inherits config from another stage; overrides, extends, and turns the healthcheck off', async () => {
    const { buildkit } = await same('from-stage', (s) => {
      expect(text(s, '/tmp/pwd')).toBe('/parent/sub\n');
      expect(entry(s, '/parent/sub').type).toBe('dir');
    });
    expect(buildkit.config).toMatchObject({
      User: 'nobody',
      WorkingDir: '/parent/sub',
      Labels: { 'from.parent': 'yes', shared: 'child' },
      ExposedPorts: { '7000/tcp': {}, '7001/tcp': {} },
      Volumes: { '/parent-data': {} },
      StopSignal: 'SIGQUIT',
      Healthcheck: { Test: ['NONE'] },
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['echo child'],
    });
    expect(buildkit.config.Env).toEqual(expect.arrayContaining(['SHARED=child', 'FROM_CHILD=yes-child']));
  });
});
