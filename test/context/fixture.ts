/**
 * A context tree with the cases COPY and .dockerignore get wrong most easily: nested dirs,
 * dotfiles, `**` patterns, an exception inside an excluded dir, excluded dirs an exception cannot
 * reach, symlinks (to a dir, to a file, inside a dir), a name with spaces, setuid/setgid bits.
 * Modes are set explicitly so the umask does not matter.
 */
import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const DOCKERIGNORE = [
  '# comment',
  'ignored.txt',
  '**/*.log',
  // Docker 20.10 tests only the ancestor as deep as the pattern: deep1/deep2/sub/y is sent.
  '**/sub',
  '!deep1/deep2/sub/keep',
  'dir/sub',
  '!dir/sub/keep',
  'cache',
  '!**/important.md',
  'nothing',
  '!nothing/none',
  '*.tmp   ',
  '',
].join('\n');

const FILES: [string, number][] = [
  ['b.txt', 0o644],
  ['sp ace.txt', 0o644],
  ['.hidden', 0o600],
  ['ignored.txt', 0o644],
  ['a.log', 0o644],
  ['x.tmp', 0o644],
  ['exec.sh', 0o755],
  ['ro.txt', 0o444],
  ['dir/x', 0o644],
  ['dir/y.log', 0o644],
  ['dir/sub/y', 0o644],
  ['dir/sub/keep', 0o640],
  ['dir/sub2/z', 0o644],
  ['dir/deep/er/f.log', 0o644],
  ['dir/deep/er/g', 0o644],
  ['cache/a', 0o644],
  ['cache/important.md', 0o644],
  ['cache/sub/important.md', 0o644],
  ['nothing/x', 0o644],
  ['deep1/deep2/sub/y', 0o644],
  ['deep1/deep2/sub/keep', 0o644],
  ['top/sub/z', 0o644],
  ['other/o', 0o4755],
  ['other/gdir/f', 0o2755],
];

const DIRS: [string, number][] = [
  ['dir', 0o755],
  ['dir/sub', 0o700],
  ['dir/sub2', 0o755],
  ['dir/deep', 0o755],
  ['dir/deep/er', 0o755],
  ['cache', 0o755],
  ['cache/sub', 0o755],
  ['nothing', 0o755],
  ['other', 0o755],
  ['other/gdir', 0o2775],
  ['emptydir', 0o751],
  ['deep1', 0o755],
  ['deep1/deep2', 0o755],
  ['deep1/deep2/sub', 0o755],
  ['top', 0o755],
  ['top/sub', 0o755],
];

const LINKS: [string, string][] = [
  ['link', 'dir'],
  ['flink', 'b.txt'],
  ['dir/inner', '../b.txt'],
];

export async function makeFixture(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'drydock-context-'));
  const ctx = join(root, 'ctx');
  for (const [d] of DIRS) await mkdir(join(ctx, d), { recursive: true });
  for (const [f, mode] of FILES) {
    await mkdir(dirname(join(ctx, f)), { recursive: true });
    // Distinct, non-empty contents (busybox stat calls empty files "regular empty file").
    await writeFile(join(ctx, f), `content of ${f}\n`);
    await chmod(join(ctx, f), mode);
  }
  for (const [d, mode] of DIRS) await chmod(join(ctx, d), mode);
  for (const [l, target] of LINKS) await symlink(target, join(ctx, l));
  await writeFile(join(ctx, '.dockerignore'), DOCKERIGNORE);
  return ctx;
}
