/**
 * Selection rules that docker 20.10's frontend cannot check (no --exclude there) or where drydock
 * is deliberately stricter than BuildKit, by table over the shared fixture.
 */
import { readFile, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Matcher,
  parseDockerignore,
  selectBind,
  selectSources,
  walkContext,
  type ContextErrorCode,
  type ContextIndex,
  type CopySpec,
} from '../../core/src/context/index.js';
import { makeFixture } from './fixture.js';

let ctx: string;
let index: ContextIndex;

beforeAll(async () => {
  ctx = await makeFixture();
  await symlink('../../etc', join(ctx, 'up'));
  await symlink('/etc/hostname', join(ctx, 'abs'));
  await symlink('loop2', join(ctx, 'loop1'));
  await symlink('loop1', join(ctx, 'loop2'));
  index = await walkContext(ctx, new Matcher(parseDockerignore(await readFile(join(ctx, '.dockerignore'), 'utf8'))));
});

afterAll(async () => {
  await rm(dirname(ctx), { recursive: true, force: true });
});

const dests = (spec: CopySpec) => selectSources(index, spec).map((e) => e.dest);

describe('--exclude', () => {
  it.each<[CopySpec, string[]]>([
    [
      { sources: ['dir'], dest: '/d/', exclude: ['sub2'] },
      ['', 'deep', 'deep/er', 'deep/er/g', 'inner', 'sub', 'sub/keep', 'x'],
    ],
    [
      { sources: ['dir'], dest: '/d/', exclude: ['**/g', 'x'] },
      ['', 'deep', 'deep/er', 'inner', 'sub', 'sub/keep', 'sub2', 'sub2/z'],
    ],
    [
      { sources: ['dir'], dest: '/d/', exclude: ['deep', '!deep/er/g'] },
      ['', 'deep', 'deep/er', 'deep/er/g', 'inner', 'sub', 'sub/keep', 'sub2', 'sub2/z', 'x'],
    ],
    [{ sources: ['*.txt'], dest: '/d/', exclude: ['sp*'] }, ['', 'b.txt', 'ro.txt']],
    [{ sources: ['dir/sub2', 'b.txt'], dest: '/d/', exclude: ['z', 'b.txt'] }, ['']],
  ])('%j', (spec, want) => {
    expect(dests(spec)).toEqual(want);
  });
});

describe('sources and destinations', () => {
  it('a file to a destination not ending in / becomes the destination; to one ending in / or . goes inside', () => {
    expect(selectSources(index, { sources: ['b.txt'], dest: '/f' })).toEqual([
      { src: 'b.txt', dest: '', name: 'b.txt', type: 'file', mode: 0o644, size: 17 },
    ]);
    expect(dests({ sources: ['b.txt'], dest: '/f/' })).toEqual(['', 'b.txt']);
    expect(dests({ sources: ['b.txt'], dest: '.' })).toEqual(['', 'b.txt']);
  });

  it('a followed symlink keeps the name it was matched by', () => {
    expect(selectSources(index, { sources: ['flink'], dest: '/f/' })[1]).toEqual({
      src: 'b.txt',
      dest: 'flink',
      name: 'flink',
      type: 'file',
      mode: 0o644,
      size: 17,
    });
  });

  it('symlinks below a copied directory stay symlinks', () => {
    const inner = selectSources(index, { sources: ['link'], dest: '/f/' }).find((e) => e.dest === 'inner');
    expect(inner).toMatchObject({ type: 'symlink', linkTarget: '../b.txt', src: 'dir/inner' });
  });

  it('an empty wildcard selects nothing (BuildKit allows it); wildcards stay within a segment', () => {
    expect(dests({ sources: ['nomatch*'], dest: '/d/' })).toEqual([]);
    expect(dests({ sources: ['d*/x'], dest: '/d/' })).toEqual(['', 'x']);
    expect(dests({ sources: ['*/x'], dest: '/d/' })).toEqual(['', 'x']);
    // `link` is a symlink: the wildcard walk does not enter it, as filepath.Walk does not.
    expect(dests({ sources: ['l*/x'], dest: '/d/' })).toEqual([]);
    expect(dests({ sources: ['link/x'], dest: '/d/' })).toEqual(['', 'x']);
  });

  it.each<[CopySpec, ContextErrorCode]>([
    [{ sources: ['../b.txt'], dest: '/d/' }, 'source-outside-context'],
    [{ sources: ['dir/../../b.txt'], dest: '/d/' }, 'source-outside-context'],
    [{ sources: ['up/hostname'], dest: '/d/' }, 'symlink-escape'],
    [{ sources: ['abs'], dest: '/d/' }, 'symlink-escape'],
    [{ sources: ['a*'], dest: '/d/' }, 'symlink-escape'],
    [{ sources: ['loop1'], dest: '/d/' }, 'source-not-found'],
    [{ sources: ['b.txt/x'], dest: '/d/' }, 'source-not-found'],
    [{ sources: ['b.txt', 'exec.sh'], dest: '/d' }, 'multiple-sources-need-dir-dest'],
    [{ sources: ['*.txt'], dest: '/d' }, 'multiple-sources-need-dir-dest'],
    [{ sources: ['[x'], dest: '/d/' }, 'bad-pattern'],
  ])('%j fails with %s', (spec, code) => {
    expect(() => selectSources(index, spec)).toThrow(expect.objectContaining({ code }) as Error);
  });

  it('copying the escaping symlink itself, below a directory, is fine', () => {
    expect(selectSources(index, { sources: ['.'], dest: '/d/' }).find((e) => e.dest === 'up')).toMatchObject({
      type: 'symlink',
      linkTarget: '../../etc',
    });
  });
});

describe('selectBind', () => {
  it('exposes a directory (followed if a symlink) or a file, literally, with what .dockerignore leaves', () => {
    expect(selectBind(index, 'link').map((e) => [e.dest, e.type, e.mode.toString(8)])).toEqual([
      ['', 'dir', '755'],
      ['deep', 'dir', '755'],
      ['deep/er', 'dir', '755'],
      ['deep/er/g', 'file', '644'],
      ['inner', 'symlink', '777'],
      ['sub', 'dir', '700'],
      ['sub/keep', 'file', '640'],
      ['sub2', 'dir', '755'],
      ['sub2/z', 'file', '644'],
      ['x', 'file', '644'],
    ]);
    expect(selectBind(index, 'flink')).toEqual([
      { src: 'b.txt', dest: '', name: 'flink', type: 'file', mode: 0o644, size: 17 },
    ]);
    expect(selectBind(index).filter((e) => e.dest === 'ignored.txt' || e.dest === 'a.log')).toEqual([]);
    expect(() => selectBind(index, '*.txt')).toThrow(expect.objectContaining({ code: 'source-not-found' }) as Error);
  });
});
