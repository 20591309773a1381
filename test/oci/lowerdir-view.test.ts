/**
 * lookupLowerdirs against the kernel: a stack of lowerdirs with whiteouts, opaque directories, files
 * over directories and symlinks, mounted as a real overlay; every looked-up path must show what the
 * mount shows there (nothing, or the same type, mode, owner and content).
 */
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareLayerXattrs, lookupLowerdirs, type MergedEntry } from '../../core/src/oci/index.js';
import { isRoot, removeDir, sh, tempDir } from './helpers.js';

let tmp = '';
let layers: string[] = [];
let merged = '';

const PATHS = [
  'etc',
  'etc/passwd',
  'etc/gone',
  'etc/hidden-by-file/x',
  'opaque',
  'opaque/from-top',
  'opaque/from-bottom',
  'plain/from-top',
  'plain/from-bottom',
  'plain/sub/deep',
  'whited',
  'whited/below',
  'nothing',
  'nothing/at/all',
  'file-over-dir',
  'file-over-dir/inside',
];

beforeAll(async () => {
  if (!isRoot()) throw new Error('test/oci/lowerdir-view.test.ts needs root (overlay mounts, whiteouts)');
  tmp = await tempDir('lowerdir-view');
  const top = join(tmp, 'top');
  const middle = join(tmp, 'middle');
  const bottom = join(tmp, 'bottom');
  const files: [string, string, string][] = [
    [bottom, 'etc/passwd', 'root:x:0:0::/root:/bin/sh\n'],
    [bottom, 'etc/gone', 'deleted above\n'],
    [bottom, 'etc/hidden-by-file/x', 'below a file\n'],
    [bottom, 'opaque/from-bottom', 'hidden by an opaque directory\n'],
    [bottom, 'plain/from-bottom', 'merged\n'],
    [bottom, 'plain/sub/deep', 'deep\n'],
    [bottom, 'whited/below', 'below a whiteout\n'],
    [bottom, 'file-over-dir/inside', 'hidden\n'],
    [middle, 'etc/hidden-by-file', 'a file over a directory\n'],
    [middle, 'plain/from-top', 'from the middle\n'],
    [top, 'opaque/from-top', 'top\n'],
    [top, 'plain/from-top', 'from the top\n'],
    [top, 'file-over-dir', 'now a file\n'],
  ];
  for (const [layer, path, content] of files) {
    mkdirSync(join(layer, path, '..'), { recursive: true });
    writeFileSync(join(layer, path), content);
  }
  chownSync(join(top, 'plain'), 1000, 1000);
  chmodSync(join(top, 'plain'), 0o750);
  mkdirSync(join(top, 'etc'), { recursive: true });
  await sh('mknod', [join(top, 'etc/gone'), 'c', '0', '0']);
  await sh('mknod', [join(middle, 'whited'), 'c', '0', '0']);
  await sh('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(top, 'opaque')]);
  await sh('setfattr', ['-n', 'user.note', '-v', 'kept', join(top, 'plain')]);
  layers = [top, middle, bottom];
  merged = join(tmp, 'merged');
  for (const d of ['merged', 'upper', 'work']) mkdirSync(join(tmp, d));
  await sh('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${layers.join(':')},upperdir=${join(tmp, 'upper')},workdir=${join(tmp, 'work')}`,
    merged,
  ]);
});

afterAll(async () => {
  if (merged) await sh('umount', [merged]).catch(() => undefined);
  await removeDir(tmp);
});

/** What a path is, as a line: from the mount, or from a looked-up entry. */
function describeMounted(path: string): string {
  let st;
  try {
    st = lstatSync(join(merged, path), { throwIfNoEntry: false });
  } catch {
    return 'none'; // ENOTDIR: a file on the way
  }
  if (!st) return 'none';
  const what = st.isDirectory() ? 'dir' : readFileSync(join(merged, path), 'utf8');
  return `${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
}
function describeEntry(entry: MergedEntry | null | 'deleted' | undefined): string {
  if (!entry || entry === 'deleted') return 'none';
  const what = entry.stat.isDirectory() ? 'dir' : readFileSync(entry.host, 'utf8');
  return `${what} ${(entry.stat.mode & 0o7777).toString(8)} ${entry.stat.uid}:${entry.stat.gid}`;
}

describe('lookupLowerdirs', () => {
  it('shows at every path what the overlay mount shows', async () => {
    const found = await lookupLowerdirs(layers, PATHS);
    expect(found).toBeDefined();
    const fromMount = PATHS.map((p) => `${p}: ${describeMounted(p)}`);
    expect(fromMount).toContain('plain/from-top: from the top\n 644 0:0');
    expect(fromMount).toContain('opaque/from-bottom: none');
    expect(PATHS.map((p) => `${p}: ${describeEntry(found!.get(p))}`)).toEqual(fromMount);
  });

  it('tells a path some layer deleted from one no layer ever held', async () => {
    const found = (await lookupLowerdirs(layers, ['etc/gone', 'whited/below', 'nothing', 'opaque/from-bottom']))!;
    expect(found.get('etc/gone')).toBe('deleted');
    expect(found.get('whited/below')).toBe('deleted');
    expect(found.get('opaque/from-bottom')).toBe('deleted');
    expect(found.get('nothing')).toBeNull();
  });

  it("gives a directory's own xattrs from the layer that shows it, overlay's left out", async () => {
    const found = (await lookupLowerdirs(layers, ['plain', 'opaque']))!;
    const plain = found.get('plain') as MergedEntry;
    expect(plain.host).toBe(join(layers[0]!, 'plain'));
    expect(plain.xattrs).toEqual({ 'user.note': Buffer.from('kept') });
    expect((found.get('opaque') as MergedEntry).xattrs).toEqual({});
  });

  it('answers from declared layer xattrs as from getfattr, without running it', async () => {
    const viaGetfattr = await lookupLowerdirs(layers, [...PATHS, 'plain']);
    declareLayerXattrs(
      layers[0]!,
      new Map<string, Record<string, Buffer>>([
        ['opaque', { 'trusted.overlay.opaque': Buffer.from('y') }],
        ['plain', { 'user.note': Buffer.from('kept') }],
      ]),
    );
    declareLayerXattrs(layers[1]!, new Map());
    declareLayerXattrs(layers[2]!, new Map());
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent'; // a getfattr run now would fail
    try {
      const declared = await lookupLowerdirs(layers, [...PATHS, 'plain']);
      expect(declared).toEqual(viaGetfattr);
      expect((declared!.get('plain') as MergedEntry).xattrs).toEqual({ 'user.note': Buffer.from('kept') });
      expect(declared!.get('opaque/from-bottom')).toBe('deleted');
    } finally {
      process.env.PATH = path;
    }
  });

  it('gives up on a symlink on the way (the caller mounts instead)', async () => {
    const linked = join(tmp, 'linked');
    mkdirSync(join(linked, 'real'), { recursive: true });
    symlinkSync('real', join(linked, 'via'));
    expect(await lookupLowerdirs([linked, ...layers], ['via/x'])).toBeUndefined();
    // A symlink as the path itself is an answer.
    const itself = (await lookupLowerdirs([linked], ['via']))!.get('via') as MergedEntry;
    expect(itself.stat.isSymbolicLink()).toBe(true);
  });
});
