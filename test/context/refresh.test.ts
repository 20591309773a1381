// refreshPaths: a walked context brought up to date from the paths a watcher reported, compared
// with a fresh walk of the same tree (same entries, same listings, same ignore decisions).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Matcher,
  parseDockerignore,
  refreshPaths,
  walkContext,
  type ContextIndex,
} from '../../core/src/context/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'drydock-refresh-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

/** What an index says about each entry: everything the stat cache compares. */
function view(index: ContextIndex): unknown {
  const entries = [...index.entries.values()]
    .map(({ path, type, mode, size, dev, ino, mtimeMs, ctimeMs, linkTarget }) => ({
      path,
      type,
      mode,
      size,
      dev,
      ino,
      mtimeMs,
      ctimeMs,
      linkTarget,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
  const children = Object.fromEntries([...index.children].sort(([a], [b]) => a.localeCompare(b)));
  return { entries, children };
}

describe('refreshPaths', () => {
  const matcher = new Matcher(parseDockerignore('ignored\n*.log\n!keep.log\n'));

  it('gives what a fresh walk gives after files are added, edited, deleted and replaced', async () => {
    const root = tree({
      'a.txt': 'a',
      'src/one.ts': '1',
      'src/deep/two.ts': '2',
      'gone/x': 'x',
      'becomes-dir': 'file',
      'ignored/y': 'y',
    });
    const index = await walkContext(root, matcher);
    writeFileSync(join(root, 'a.txt'), 'a, longer');
    writeFileSync(join(root, 'src/deep/three.ts'), '3');
    rmSync(join(root, 'gone'), { recursive: true });
    rmSync(join(root, 'becomes-dir'));
    mkdirSync(join(root, 'becomes-dir/inner'), { recursive: true });
    writeFileSync(join(root, 'becomes-dir/inner/z'), 'z');
    mkdirSync(join(root, 'new/deeper'), { recursive: true });
    writeFileSync(join(root, 'new/deeper/n'), 'n');
    writeFileSync(join(root, 'debug.log'), 'ignored by *.log');
    writeFileSync(join(root, 'keep.log'), 'kept by !keep.log');
    writeFileSync(join(root, 'ignored/more'), 'still ignored');
    refreshPaths(index, matcher, [
      'a.txt',
      'src/deep/three.ts',
      'gone/x',
      'gone',
      'becomes-dir',
      'becomes-dir/inner',
      'becomes-dir/inner/z',
      'new',
      'new/deeper',
      'new/deeper/n',
      'debug.log',
      'keep.log',
      'ignored/more',
    ]);
    expect(view(index)).toEqual(view(await walkContext(root, matcher)));
    expect(index.entries.has('gone/x')).toBe(false);
    expect(index.entries.get('becomes-dir')?.type).toBe('dir');
    expect(index.entries.has('keep.log')).toBe(true);
    expect(index.entries.has('debug.log')).toBe(false);
  });

  it('re-lists a listed directory whose times changed, though no reported path lies in it', async () => {
    const root = tree({ 'a.txt': 'a', 'src/one.ts': '1' });
    const index = await walkContext(root, matcher);
    writeFileSync(join(root, 'a.txt'), 'a, edited');
    // Not reported yet (its event is still on its way): only a.txt is.
    writeFileSync(join(root, 'src/two.ts'), '2');
    refreshPaths(index, matcher, ['a.txt']);
    expect(view(index)).toEqual(view(await walkContext(root, matcher)));
  });

  it('a directory reported alone (its files not listed) is walked whole', async () => {
    const root = tree({ 'a.txt': 'a' });
    const index = await walkContext(root, matcher);
    mkdirSync(join(root, 'pkg/lib'), { recursive: true });
    writeFileSync(join(root, 'pkg/lib/index.js'), 'x');
    refreshPaths(index, matcher, ['pkg']);
    expect(view(index)).toEqual(view(await walkContext(root, matcher)));
  });
});
