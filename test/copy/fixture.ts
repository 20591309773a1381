/**
 * Fixtures for the copy tests: a build context with the cases COPY/ADD get wrong most easily
 * (setuid and sticky bits, a 0700 dir, hardlinks, relative and absolute symlinks, an archive below
 * a directory, tar archives in every compression with owners in them), and a tree lister that
 * says what an image filesystem holds, mtimes aside.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readXattrs } from '../../core/src/oci/xattr.js';

/** Runs a shell command (no stdin), failing with its stderr. */
export async function sh(cmd: string, cwd?: string): Promise<string> {
  const { stdout } = await promisify(execFile)('sh', ['-c', cmd], { cwd, maxBuffer: 1 << 26 });
  return stdout;
}

export const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\nother:x:2000:2000::/:/bin/sh\n';
export const GROUP = 'root:x:0:\napp:x:1001:\nstaff:x:50:app\nother:x:2000:\n';

/** Creates the context in a new temp dir and returns its path. */
export async function makeContext(): Promise<string> {
  const ctx = await mkdtemp(join(tmpdir(), 'drydock-copy-ctx-'));
  const file = async (rel: string, content: string, mode = 0o644) => {
    await writeFile(join(ctx, rel), content);
    await chmod(join(ctx, rel), mode);
  };
  const dir = async (rel: string, mode = 0o755) => {
    await mkdir(join(ctx, rel), { recursive: true });
    await chmod(join(ctx, rel), mode);
  };
  await dir('etc');
  await file('etc/passwd', PASSWD);
  await file('etc/group', GROUP);
  await dir('dir');
  await dir('dir/sub', 0o700);
  await dir('dir/emptyd', 0o1777);
  await dir('dir/sub/deeper', 0o750);
  await file('dir/a.txt', 'hi\n');
  await link(join(ctx, 'dir/a.txt'), join(ctx, 'dir/hard.txt'));
  await file('dir/sub/b', 'sub\n', 0o4755);
  await file('dir/sub/deeper/c', 'c\n', 0o2750);
  await symlink('a.txt', join(ctx, 'dir/link'));
  await symlink('/nonexist', join(ctx, 'dir/abslink'));
  await symlink('../a.txt', join(ctx, 'dir/sub/up'));
  await file('file.txt', 'f\n', 0o640);
  await file('exec.sh', '#!/bin/sh\n', 0o755);
  // One inode under three names in two dirs and the root: linked within a source, not across.
  await dir('h1');
  await dir('h2');
  await file('h1/x', 'x\n');
  await link(join(ctx, 'h1/x'), join(ctx, 'h2/y'));
  await link(join(ctx, 'h1/x'), join(ctx, 'top'));
  await file('tiny', 'abc');
  await file('empty', '');
  // Archives: t/d (0750) with a file, a symlink and a hardlink, owned 1234:4321 in the tar.
  const src = join(ctx, '.tarsrc');
  await mkdir(join(src, 't/d'), { recursive: true });
  await writeFile(join(src, 't/d/x'), 'x\n');
  await chmod(join(src, 't/d/x'), 0o640);
  await symlink('x', join(src, 't/d/y'));
  await link(join(src, 't/d/x'), join(src, 't/d/hl'));
  await chmod(join(src, 't/d'), 0o750);
  // cap.tar: an executable with a file capability, which ADD extracts and COPY --from keeps.
  await writeFile(join(src, 'capbin'), '#!/bin/sh\n');
  await chmod(join(src, 'capbin'), 0o755);
  await sh(`setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= ${join(src, 'capbin')}`);
  await sh(
    "tar --xattrs --xattrs-include='security.*' -C .tarsrc -cf cap.tar capbin && " +
      'tar --owner=1234 --group=4321 -C .tarsrc -cf a.tar t && gzip -c a.tar > a.tgz && xz -c a.tar > a.txz && ' +
      'bzip2 -c a.tar > a.tbz && zstd -q -c a.tar > a.tzst && cp a.tgz noext && echo plain | gzip > plain.gz && ' +
      'cp a.tgz dir/inner.tgz && rm -rf .tarsrc && chmod 644 a.* noext plain.gz dir/inner.tgz',
    ctx,
  );
  return ctx;
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: string;
  uid: number;
  gid: number;
  /** sha256 of a file's content, a symlink's target. */
  content?: string;
  /** Other paths sharing a file's inode (hardlinks), sorted; absent when there are none. */
  links?: string[];
  /** Extended attributes, `name=base64` sorted (see withXattrs). */
  xattrs?: string[];
}

/** Adds each entry's extended attributes (read with getfattr) to a listed tree. */
export async function withXattrs(root: string, tree: Map<string, TreeEntry>): Promise<Map<string, TreeEntry>> {
  const found = await readXattrs([...tree.keys()].map((p) => join(root, p)));
  for (const [path, e] of tree) {
    const x = found.get(join(root, path));
    if (x)
      e.xattrs = Object.entries(x)
        .map(([k, v]) => `${k}=${v.toString('base64')}`)
        .sort();
  }
  return tree;
}

/** Every path below `root` (relative, '/'-separated), with what a layer would record of it. */
export function listTree(root: string, skip: (rel: string) => boolean = () => false): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const inodeOf = new Map<string, string>();
  const groups = new Map<string, string[]>();
  const visit = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (skip(path)) continue;
      const abs = join(root, path);
      const st = lstatSync(abs);
      const type = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      const e: TreeEntry = { type, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid };
      if (type === 'file') {
        e.content = createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16);
        if (st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          inodeOf.set(path, key);
          groups.set(key, [...(groups.get(key) ?? []), path]);
        }
      }
      if (type === 'symlink') e.content = readlinkSync(abs);
      out.set(path, e);
      if (type === 'dir') visit(path);
    }
  };
  visit('');
  for (const [path, key] of inodeOf) {
    const others = groups.get(key)!.filter((p) => p !== path);
    if (others.length > 0) out.get(path)!.links = others.sort();
  }
  return out;
}
