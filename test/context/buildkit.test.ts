/**
 * The proof: what drydock selects for a COPY is what BuildKit (docker 20.10's built-in frontend)
 * puts in the image. Each COPY under test goes to its own destination; the image's files are
 * listed with busybox stat and compared with the Selection (path, type, mode, size, link target).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContextError,
  Matcher,
  ignorePatterns,
  parseDockerignore,
  selectSources,
  walkContext,
  type ContextIndex,
  type CopySpec,
} from '../../core/src/context/index.js';
import { docker, ok } from '../e2e/helpers.js';
import { makeFixture } from './fixture.js';

const TAG = `drydock-context-test:${process.pid}`;

/** [sources, dest]: each is one COPY, in JSON form so names with spaces stay whole. */
const COPIES: [string[], string][] = [
  [['.'], '/all'],
  [['link'], '/d1/'],
  [['flink'], '/d2/'],
  [['dir'], '/d3'],
  [['*.txt'], '/d4/'],
  [['dir/*'], '/d5/'],
  [['l*'], '/d6/'],
  [['b.txt', 'sp ace.txt', 'exec.sh'], '/d7/'],
  [['dir/sub'], '/d8/'],
  [['b.txt'], '/d9'],
  [['nomatch*'], '/d11/'],
  [['other'], '/d12'],
  [['d?r/s*b'], '/d13/'],
  [['/b.txt'], '/d14/'],
  [['dir/../flink'], '/d15/'],
  [['emptydir'], '/d16'],
  [['dir/deep/'], '/d17/'],
  [['*'], '/d18/'],
  [['deep1'], '/d19/'],
  [['top'], '/d20/'],
];

let ctx: string;
let index: ContextIndex;
let dockerfileDir: string;

beforeAll(async () => {
  ctx = await makeFixture();
  dockerfileDir = dirname(ctx);
  // The file the build reads, so both sides see the same patterns.
  index = await walkContext(ctx, new Matcher(parseDockerignore(await readFile(join(ctx, '.dockerignore'), 'utf8'))));
});

afterAll(async () => {
  await docker(['rmi', '-f', TAG]);
  await rm(dirname(ctx), { recursive: true, force: true });
});

const TYPE_NAMES = { file: 'regular file', dir: 'directory', symlink: 'symbolic link' } as const;

/** The lines `stat -c '%n|%F|%a|%s'` (+ `|target` for links) would print for a COPY's result. */
function expected(spec: CopySpec): string[] {
  const selection = selectSources(index, spec);
  const dest = spec.dest.replace(/\/+$/, '');
  const out = new Map<string, string>();
  for (const e of selection) {
    const path = e.dest === '' ? dest : `${dest}/${e.dest}`;
    const mode = e.type === 'symlink' ? '777' : e.mode.toString(8);
    const extra = e.type === 'file' ? `|${e.size}` : e.type === 'symlink' ? `|${e.linkTarget}` : '';
    // Copying in order: a later entry at the same path replaces the earlier one.
    out.set(path, `${path}|${TYPE_NAMES[e.type]}|${mode}${extra}`);
  }
  return [...out.values()].sort();
}

async function build(dockerfile: string): Promise<ReturnType<typeof docker>> {
  const file = join(dockerfileDir, `Dockerfile.${process.pid}.${Math.random().toString(36).slice(2)}`);
  await writeFile(file, dockerfile);
  try {
    return await docker(['build', '-q', '-f', file, '-t', TAG, ctx]);
  } finally {
    await rm(file, { force: true });
  }
}

describe('COPY selection equals what BuildKit copies', () => {
  it('for every COPY form in the fixture', async () => {
    const lines = ['FROM busybox', ...COPIES.map(([s, d]) => `COPY ${JSON.stringify([...s, d])}`)];
    ok('docker build', await build(lines.join('\n') + '\n'));
    const dests = COPIES.map(([, d]) => d.replace(/\/+$/, ''));
    // One line per path: '%n|%F|%a', then the size for files and the target for links.
    const script = `for d in ${dests.join(' ')}; do [ -e "$d" ] || continue; find "$d" | while IFS= read -r f; do
      t=$(stat -c '%F' "$f"); line=$(stat -c '%n|%F|%a' "$f")
      case "$t" in "regular file") line="$line|$(stat -c %s "$f")";; "symbolic link") line="$line|$(readlink "$f")";; esac
      echo "$line"; done; done`;
    const listing = ok('docker run', await docker(['run', '--rm', '--network', 'none', TAG, 'sh', '-c', script]));
    const actual = listing.stdout.trim().split('\n').filter(Boolean);
    for (const [sources, dest] of COPIES) {
      const d = dest.replace(/\/+$/, '');
      const mine = actual.filter((l) => l === d || l.startsWith(`${d}|`) || l.startsWith(`${d}/`)).sort();
      expect({ copy: [...sources, dest], lines: mine }).toEqual({
        copy: [...sources, dest],
        lines: expected({ sources, dest }),
      });
    }
  });

  // cache/important.md matches the exception `!**/important.md`, but `cache` is excluded and the
  // exception is not written below it, so the walk never enters `cache`.
  it.each([
    ['ignored.txt'],
    ['dir/sub/y'],
    ['nothing/x'],
    ['a.log'],
    ['cache'],
    ['cache/important.md'],
    ['x.tmp'],
    ['missing'],
  ])('naming %s (ignored or absent) fails in both', async (source) => {
    const r = await build(`FROM busybox\nCOPY ${source} /x\n`);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(`"/${source}" not found`);
    expect(() => selectSources(index, { sources: [source], dest: '/x' })).toThrow(
      expect.objectContaining({ code: 'source-not-found', subject: source }) as ContextError,
    );
  });

  it('docker 20.10 sends a file below an excluded dir when the pattern matched it through a deeper ancestor', async () => {
    ok('docker build', await build('FROM busybox\nCOPY deep1/deep2/sub/y /x/\n'));
    expect(selectSources(index, { sources: ['deep1/deep2/sub/y'], dest: '/x/' }).map((e) => e.dest)).toEqual(['', 'y']);
  });

  it('an exception written below an excluded dir re-includes, in both', async () => {
    ok('docker build', await build('FROM busybox\nCOPY dir/sub/keep /x/\n'));
    const sel = selectSources(index, { sources: ['dir/sub/keep'], dest: '/x/' });
    expect(sel.map((e) => [e.dest, e.type])).toEqual([
      ['', 'dir'],
      ['keep', 'file'],
    ]);
  });

  it('.dockerignore and the Dockerfile can ignore themselves (BuildKit does not force them in)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drydock-context-self-'));
    try {
      await writeFile(join(dir, 'a'), 'a\n');
      await writeFile(join(dir, '.dockerignore'), '.dockerignore\nDockerfile\n');
      await writeFile(join(dir, 'Dockerfile'), 'FROM busybox\nCOPY . /x\nRUN find /x | sort > /listing\n');
      ok('docker build', await docker(['build', '-q', '-t', TAG, dir]));
      const listing = ok('docker run', await docker(['run', '--rm', '--network', 'none', TAG, 'cat', '/listing']));
      const index2 = await walkContext(dir, new Matcher(await ignorePatterns(dir, { name: 'self', ignore: [] })));
      const mine = selectSources(index2, { sources: ['.'], dest: '/x' }).map((e) => (e.dest ? `/x/${e.dest}` : '/x'));
      expect(listing.stdout.trim().split('\n')).toEqual(mine.sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
