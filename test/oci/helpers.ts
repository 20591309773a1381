import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { LayerEntry } from '../../core/src/oci/index.js';
import { walkTree } from './walk-tree.js';

const exec = promisify(execFile);

/** Runs a command, returns stdout; the error names the command and carries stderr. */
export async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr || err.message}`);
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `drydock-oci-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** One line per path: what a filesystem view looks like to a user of the image. */
export async function describeTree(root: string, skip: (path: string) => boolean = () => false): Promise<string[]> {
  const lines: string[] = [];
  for (const path of await walkTree(root)) {
    if (skip(path)) continue;
    const abs = join(root, path);
    const st = await lstat(abs);
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    const own = `${st.uid}:${st.gid}`;
    if (st.isDirectory()) lines.push(`${path}/ dir ${mode} ${own}`);
    else if (st.isSymbolicLink()) lines.push(`${path} -> ${await readlink(abs)} ${own}`);
    else if (st.isCharacterDevice()) lines.push(`${path} char ${st.rdev} ${mode} ${own}`);
    else if (st.isFile()) {
      const body = await readFile(abs);
      const text = body.length <= 64 ? JSON.stringify(body.toString()) : `${body.length} bytes`;
      lines.push(`${path} file ${mode} ${own} ${text}${st.nlink > 1 ? ` nlink=${st.nlink}` : ''}`);
    } else lines.push(`${path} other ${mode} ${own}`);
  }
  return lines;
}

export async function mount(args: string[]): Promise<void> {
  await sh('mount', args);
}

export async function umount(dir: string): Promise<void> {
  await sh('umount', [dir]).catch(() => undefined);
}

/** A regular file entry with `body` as content, root-owned 0644 unless `extra` says otherwise. */
export const fileEntry = (path: string, body: string, extra: Partial<LayerEntry> = {}): LayerEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: Buffer.byteLength(body),
  content: () => Readable.from([Buffer.from(body)]),
  ...extra,
});

/** A directory entry, root-owned 0755 unless `extra` says otherwise. */
export const dirEntry = (path: string, extra: Partial<LayerEntry> = {}): LayerEntry => ({
  path,
  type: 'dir',
  mode: 0o755,
  uid: 0,
  gid: 0,
  ...extra,
});

/** Bytes that do not compress (a sha256 chain from `seed`): a large file then spans many gzip chunks and members. */
export function noise(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let pos = 0; pos < size; pos += block.length) {
    block.copy(out, pos);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
