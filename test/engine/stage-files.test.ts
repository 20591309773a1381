/**
 * stageFiles: /etc/passwd and /etc/group of a stage read from its layer snapshots must say what
 * the mounted stage says (the same text, or the same error), whiteouts, opaque directories and
 * symlinks included; a symlink on the way sends it through a mount.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRootfs } from '../../core/src/engine/rootfs.js';
import { stageFiles, USER_FILES } from '../../core/src/engine/stage-files.js';
import { filesAt, type ImageFiles } from '../../core/src/exec/index.js';
import { Store } from '../../core/src/store/index.js';
import { isRoot, removeDir, sh, tempDir } from '../oci/helpers.js';

let tmp = '';
let store: Store;

beforeAll(async () => {
  if (!isRoot()) throw new Error('test/engine/stage-files.test.ts needs root (overlay mounts, whiteouts)');
  tmp = await tempDir('stage-files');
  store = await Store.open({ root: join(tmp, 'store') });
});

afterAll(async () => {
  await removeDir(tmp);
});

/** A layer directory holding `files` (path → content, or a `->target` symlink, or `whiteout`). */
async function layer(name: string, files: Record<string, string>, opaque: string[] = []): Promise<string> {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    if (content === 'whiteout') await sh('mknod', [join(dir, path), 'c', '0', '0']);
    else if (content.startsWith('->')) symlinkSync(content.slice(2), join(dir, path));
    else writeFileSync(join(dir, path), content);
  }
  for (const path of opaque) await sh('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', join(dir, path)]);
  return dir;
}

async function outcomes(files: ImageFiles): Promise<unknown[]> {
  return Promise.all(
    USER_FILES.map((path) =>
      files(path).then(
        (text) => ({ text }),
        (e: NodeJS.ErrnoException) => ({ code: e.code }),
      ),
    ),
  );
}

const mounted = (lowerdirs: string[]): Promise<unknown[]> =>
  readRootfs(store, lowerdirs, (rootfs) => outcomes(filesAt(rootfs)));

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\nstaff:x:50:app\n';

describe('stageFiles', () => {
  const cases: [string, () => Promise<string[]>][] = [
    ['one layer', async () => [await layer('one', { 'etc/passwd': PASSWD, 'etc/group': GROUP })]],
    [
      'a file replaced above, another whited out',
      async () => [
        await layer('replaced-top', { 'etc/passwd': 'root:x:0:0::/:/bin/sh\n', 'etc/group': 'whiteout' }),
        await layer('replaced-bottom', { 'etc/passwd': PASSWD, 'etc/group': GROUP }),
      ],
    ],
    [
      'an opaque /etc above',
      async () => [
        await layer('opaque-top', { 'etc/group': 'wheel:x:10:\n' }, ['etc']),
        await layer('opaque-bottom', { 'etc/passwd': PASSWD, 'etc/group': GROUP }),
      ],
    ],
    [
      'an /etc that is a symlink (read through a mount)',
      async () => [
        await layer('link-top', { etc: '->/real-etc', 'real-etc/passwd': PASSWD }),
        await layer('link-bottom', { 'etc/group': GROUP }),
      ],
    ],
    [
      'a passwd that is a symlink (read through a mount)',
      async () => [await layer('plink', { 'etc/passwd': '->../srv/passwd', 'srv/passwd': PASSWD, 'etc/group': GROUP })],
    ],
    ['no /etc at all', async () => [await layer('bare', { 'bin/sh': '#!\n' })]],
    ['scratch', async () => []],
  ];
  for (const [what, make] of cases) {
    it(`reads what the mounted stage shows: ${what}`, async () => {
      const lowerdirs = await make();
      const expected = await mounted(lowerdirs);
      expect(await outcomes(await stageFiles(store, lowerdirs, USER_FILES))).toEqual(expected);
    });
  }

  it('rejects a path it was not asked to read', async () => {
    const files = await stageFiles(store, [await layer('unasked', { 'etc/passwd': PASSWD })], ['/etc/passwd']);
    await expect(files('/etc/shadow')).rejects.toThrow('/etc/shadow was not read from the stage');
  });
});
