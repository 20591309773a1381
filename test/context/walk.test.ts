/**
 * The walk's index: children in Go's byte order (ASCII-only directories take a faster sort, so
 * both paths are checked) and entries carrying the lstat numbers the stat cache compares.
 */
import { lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Matcher, walkContext, type ContextIndex } from '../../core/src/context/index.js';

let root: string;
let index: ContextIndex;
/** Wall clock just before and after the walk: every stat was taken between them. */
let before = 0;
let after = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'drydock-walk-'));
  await mkdir(join(root, 'ascii'));
  await mkdir(join(root, 'utf8'));
  for (const name of ['a', 'B', '_', 'z', '~', '0']) await writeFile(join(root, 'ascii', name), name);
  // U+FF5E sorts before U+1F600 in UTF-8 bytes, after it in UTF-16 code units (a surrogate pair).
  for (const name of ['a', 'B', 'é', '\u{1F600}', '\uFF5E', '~']) await writeFile(join(root, 'utf8', name), name);
  await symlink('ascii/a', join(root, 'link'));
  before = Date.now();
  index = await walkContext(root, new Matcher([]));
  after = Date.now();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('walkContext', () => {
  it('lists children in byte order, ASCII-only or not', () => {
    expect(index.children.get('')).toEqual(['ascii', 'link', 'utf8']);
    expect(index.children.get('ascii')).toEqual(['0', 'B', '_', 'a', 'z', '~']);
    expect(index.children.get('utf8')).toEqual(['B', 'a', '~', 'é', '\uFF5E', '\u{1F600}']);
  });

  it('records what lstat says, as numbers, after walkedAtMs', async () => {
    for (const path of ['ascii', 'ascii/a', 'link', 'utf8/\u{1F600}']) {
      const st = await lstat(join(root, path));
      const e = index.entries.get(path)!;
      expect(e).toMatchObject({
        path,
        type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file',
        mode: st.mode & 0o7777,
        size: st.size,
        dev: st.dev,
        ino: st.ino,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
      });
    }
    expect(index.entries.get('link')!.linkTarget).toBe('ascii/a');
    expect(index.walkedAtMs).toBeGreaterThanOrEqual(before);
    expect(index.walkedAtMs).toBeLessThanOrEqual(after);
  });
});
