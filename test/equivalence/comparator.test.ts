/**
 * The comparator can fail: equal images compare equal, and every kind of difference is found and
 * named, first on hand-made snapshots (each field alone), then on real images: one BuildKit image
 * against itself, against a second `--no-cache` build of the same Dockerfile, and against a
 * deliberately different image built on top of it.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '../e2e/helpers.js';
import { docker } from './proc.js';
import {
  CONFIG_FIELDS,
  diffConfigs,
  diffFilesystems,
  diffImages,
  entry,
  expectSameImage,
  snapshot,
  type FsEntry,
  type PickedConfig,
  type Snapshot,
} from './compare.js';
import { Bench } from './harness.js';

const nullConfig = () => Object.fromEntries(CONFIG_FIELDS.map((f) => [f, null])) as PickedConfig;

function fake(side: string, entries: Partial<FsEntry>[], config: Partial<PickedConfig> = {}): Snapshot {
  const fs = new Map<string, FsEntry>();
  for (const e of entries) {
    const full: FsEntry = { path: '/x', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, ...e };
    if (full.type === 'file' && !full.digest) full.digest = 'sha256:' + '0'.repeat(64);
    fs.set(full.path, full);
  }
  return { side, tag: `${side}:fake`, fs, config: { ...nullConfig(), ...config }, history: [] };
}

describe('comparator on hand-made snapshots', () => {
  const base: Partial<FsEntry>[] = [
    { path: '/bin', type: 'dir', mode: 0o755 },
    { path: '/bin/tool', mode: 0o4755, size: 3, digest: 'sha256:' + 'a'.repeat(64) },
    { path: '/tmp', type: 'dir', mode: 0o1777 },
    { path: '/link', type: 'symlink', mode: 0o777, linkname: '/bin/tool' },
    { path: '/hard', mode: 0o4755, type: 'hardlink', linkname: '/bin/tool' },
  ];
  const changed = (path: string, change: Partial<FsEntry>) =>
    base.map((e) => (e.path === path ? { ...e, ...change } : e));

  it('finds nothing between equal snapshots', () => {
    expect(diffImages(fake('a', base), fake('b', base))).toEqual([]);
  });

  it.each([
    ['setuid bit', '/bin/tool', { mode: 0o755 }, '/bin/tool: mode 4755 (a) vs 0755 (b)'],
    ['sticky bit', '/tmp', { mode: 0o777 }, '/tmp: mode 1777 (a) vs 0777 (b)'],
    ['uid', '/bin/tool', { uid: 1000 }, '/bin/tool: uid 0 (a) vs 1000 (b)'],
    ['gid', '/bin/tool', { gid: 65534 }, '/bin/tool: gid 0 (a) vs 65534 (b)'],
    ['symlink target', '/link', { linkname: 'bin/tool' }, '/link: link target /bin/tool (a) vs bin/tool (b)'],
    ['hardlink target', '/hard', { linkname: '/link' }, '/hard: link target /bin/tool (a) vs /link (b)'],
    ['type', '/hard', { type: 'file', linkname: undefined }, '/hard: type hardlink (a) vs file (b)'],
    ['xattrs', '/bin/tool', { xattrs: { 'security.capability': 'ab' } }, '/bin/tool: xattrs {} (a)'],
  ] as const)('names a differing %s', (_what, path, change, line) => {
    const lines = diffFilesystems(fake('a', base), fake('b', changed(path, change)));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(line);
  });

  it('names differing content of the same size by digest', () => {
    const lines = diffFilesystems(
      fake('a', base),
      fake('b', changed('/bin/tool', { digest: 'sha256:' + 'b'.repeat(64) })),
    );
    expect(lines).toEqual([`/bin/tool: content sha256:aaaaaaaaaaaa (a) vs sha256:bbbbbbbbbbbb (b)`]);
  });

  it('names entries found on one side only, with what they are', () => {
    const lines = diffFilesystems(
      fake('a', base),
      fake('b', [...base.filter((e) => e.path !== '/tmp'), { path: '/.wh.x', size: 0 }]),
    );
    expect(lines).toEqual([
      expect.stringMatching(/^\/\.wh\.x: only in b \(file 0644 0:0 0B sha256:/),
      '/tmp: only in a (dir 1777 0:0)',
    ]);
  });

  it('compares every config field, and [] is not null', () => {
    for (const field of CONFIG_FIELDS) {
      const lines = diffConfigs(fake('a', base), fake('b', base, { [field]: [] }));
      expect(lines).toEqual([`config ${field}: null (a) vs [] (b)`]);
    }
    expect(
      diffConfigs(fake('a', base, { Env: ['A=1', 'B=2'] }), fake('b', base, { Env: ['B=2', 'A=1'] })),
    ).toHaveLength(1);
  });

  it('throws a readable list from expectSameImage', () => {
    expect(() => expectSameImage('case x', fake('a', base), fake('b', changed('/tmp', { uid: 5 })))).toThrow(
      /case x: 1 difference\(s\) between a \(a:fake\) and b \(b:fake\):\n {2}\/tmp: uid 0 \(a\) vs 5 \(b\)/,
    );
  });
});

describe('comparator on real images', () => {
  const bench = new Bench();
  const corpus = bench.config('test/equivalence/corpus/filesystem');
  let first: Snapshot;
  let again: Snapshot;
  let altered: Snapshot;

  beforeAll(async () => {
    await bench.setup();
    const spec = { image: 'links' };
    const [a, b] = await Promise.all([
      corpus.buildkit('cmp-links', spec),
      corpus.buildkit('cmp-links-again', spec, true),
    ]);
    // A different image on top of the first: each line changes one thing the comparator must see.
    const dir = join(bench.tmp, 'altered');
    await mkdir(dir);
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        `FROM ${a}`,
        'RUN chmod 4755 /links/dir/file' + // mode of a hardlinked file (and so of its links)
          ' && echo TARGET > /links/dir/file' + // same size, other content
          ' && ln -sfn /links/dir /links/dirlink' + // symlink target
          ' && rm /etc/passwd' + // whiteout
          ' && chown 1:2 /tmp' + // owner of a base directory
          ' && touch /new-file',
        'ENV EXTRA=1',
        'USER nobody',
        'EXPOSE 1234',
        '',
      ].join('\n'),
    );
    const c = bench.tag('cmp-altered');
    ok('docker build altered', await docker(['build', '-q', '-t', c, dir]));
    [first, again, altered] = await Promise.all([snapshot('first', a), snapshot('again', b), snapshot('altered', c)]);
  });

  afterAll(() => bench.cleanup());

  it('finds an image equal to itself', () => {
    expect(diffImages(first, first)).toEqual([]);
  });

  it('finds two --no-cache BuildKit builds of one Dockerfile equal (mtimes ignored)', () => {
    expect(first.tag).not.toBe(again.tag);
    expectSameImage('links twice', first, again);
  });

  it('reads hardlinks, symlinks and content from docker export', () => {
    expect(entry(first, '/links/hard')).toMatchObject({ type: 'hardlink', linkname: '/links/dir/file' });
    expect(entry(first, '/links/relative')).toMatchObject({ type: 'symlink', linkname: 'dir/file' });
    expect(entry(first, '/links/dir/file').content?.toString()).toBe('target\n');
  });

  it('lists exactly the differences made on purpose', () => {
    const lines = diffImages(first, altered);
    expect(lines).toEqual([
      expect.stringMatching(/^config Env: .*"EXTRA=1"/),
      'config User: "" (first) vs "nobody" (altered)',
      'config ExposedPorts: null (first) vs {"1234/tcp":{}} (altered)',
      expect.stringMatching(/^history \d+: none \(first\) vs "RUN \/bin\/sh -c chmod 4755 .* # buildkit" \(altered\)$/),
      expect.stringMatching(/^history \d+: none \(first\) vs "ENV EXTRA=1" \(altered\)$/),
      expect.stringMatching(/^history \d+: none \(first\) vs "USER nobody" \(altered\)$/),
      expect.stringMatching(/^history \d+: none \(first\) vs "EXPOSE map\[1234\/tcp:\{\}\]" \(altered\)$/),
      expect.stringMatching(/^\/etc\/passwd: only in first \(file 0644 0:0 \d+B sha256:/),
      expect.stringMatching(
        /^\/links\/dir\/file: mode 0644 \(first\) vs 4755 \(altered\); content sha256:\w+ "target\\n" \(first\) vs sha256:\w+ "TARGET\\n" \(altered\)$/,
      ),
      '/links/dirlink: link target dir (first) vs /links/dir (altered)',
      // Writing one name of a hardlinked file copies that name up alone (overlayfs): the link breaks.
      expect.stringMatching(
        /^\/links\/hard: type hardlink \(first\) vs file \(altered\); size 0 \(first\) vs 7 \(altered\); content - \(first\) vs sha256:\w+ "target\\n" \(altered\); link target \/links\/dir\/file \(first\) vs - \(altered\)$/,
      ),
      '/links/hard2: link target /links/dir/file (first) vs /links/hard (altered)',
      expect.stringMatching(/^\/new-file: only in altered \(file 0644 0:0 0B /),
      '/tmp: uid 0 (first) vs 1 (altered); gid 0 (first) vs 2 (altered)',
    ]);
  });
});
