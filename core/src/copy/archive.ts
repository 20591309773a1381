import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { secureJoin } from '../exec/paths.js';
import { readTar, writeXattrs } from '../oci/index.js';
import { ensureDir } from './dirs.js';
import { CopyError } from './errors.js';

// ADD's archive handling as docker 20.10's BuildKit does it (moby pkg/archive, each rule checked):
// a local file is an archive when its content, after gzip/bzip2/xz decompression (by magic bytes,
// never by name; zstd is NOT recognised by 20.10 and is copied as a file), starts with a valid tar
// header. Extraction runs chrooted into the destination directory: entry paths and link targets
// resolve inside it (`../x` lands at `x`, a symlink to `/p` means `<dest>/p`), missing parents are
// created 0755 root-owned, every entry keeps the owner, mode and xattrs of its header (--chown and
// --chmod do not apply), an existing directory hit by a directory entry is kept but takes the
// entry's owner and mode, anything else at an entry's path is removed first. A hardlink entry
// sets the shared inode's owner and mode from its own header.

type Compression = 'gzip' | 'bzip2' | 'xz' | 'none';
const BLOCK = 512;
const ROOT = { uid: 0, gid: 0 };

function sniff(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

interface Decompressed {
  stream: Readable;
  /** Stops the decompressor early (a no-op once it ended). */
  close(): void;
  /** stderr of an external decompressor, for error messages. */
  stderr(): string;
}

function decompress(path: string, compression: Compression): Decompressed {
  if (compression === 'none' || compression === 'gzip') {
    const file = createReadStream(path);
    const stream = compression === 'gzip' ? file.pipe(createGunzip()) : file;
    if (stream !== file) file.on('error', (e) => stream.destroy(e));
    return { stream, close: () => (file.destroy(), stream.destroy()), stderr: () => '' };
  }
  // Node has no bzip2 or xz: the host tools do it (docker runs `xz -d` too).
  const fd = openSync(path, 'r');
  let child: ChildProcess;
  try {
    child = spawn(compression, ['-d', '-c', '-q'], { stdio: [fd, 'pipe', 'pipe'] });
  } finally {
    closeSync(fd);
  }
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.on('error', (e) => child.stdout!.destroy(new Error(`${compression}: ${e.message}`)));
  return {
    stream: child.stdout!,
    close: () => {
      child.stdout!.destroy();
      if (child.exitCode === null) child.kill();
    },
    stderr: () => err.trim(),
  };
}

/** Whether ADD would extract the file at `path` (Go: DecompressStream, then tar.Reader.Next() succeeds). */
export async function isArchive(path: string): Promise<boolean> {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size === 0) return false;
  const head = Buffer.alloc(6);
  const fd = openSync(path, 'r');
  let got: number;
  try {
    got = readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  const d = decompress(path, sniff(head.subarray(0, got)));
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of d.stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= 2 * BLOCK) break;
    }
  } catch {
    return false;
  } finally {
    d.close();
  }
  const data = Buffer.concat(chunks);
  // Go skips one all-zero block; two mean an empty archive, which Next() reports as io.EOF.
  const first = data.subarray(0, BLOCK);
  const block = first.length === BLOCK && first.every((b) => b === 0) ? data.subarray(BLOCK, 2 * BLOCK) : first;
  return block.length === BLOCK && !block.every((b) => b === 0) && checksumOk(block);
}

/** Go's tar: the stored checksum equals the unsigned or the signed byte sum with the field as spaces. */
function checksumOk(block: Buffer): boolean {
  const field = block.toString('latin1', 148, 156).replace(/^[ \0]+|[ \0]+$/g, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const stored = parseInt(field, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Extracts the archive at `path` into the directory `dest` (a host path inside the rootfs; `shown` is its image path). */
export async function extractArchive(path: string, dest: string, shown: string): Promise<void> {
  const head = Buffer.alloc(6);
  const fd = openSync(path, 'r');
  const got = readSync(fd, head, 0, 6, 0);
  closeSync(fd);
  const d = decompress(path, sniff(head.subarray(0, got)));
  const parents = new Map<string, string>([['', dest]]);
  const xattrs: { path: string; xattrs: Record<string, Buffer> }[] = [];
  let current = '';
  try {
    for await (const { header: h, body } of readTar(d.stream as AsyncIterable<Buffer>)) {
      const rel = posix.normalize('/' + h.path).slice(1);
      current = rel;
      if (rel === '') continue;
      const slash = rel.lastIndexOf('/');
      const parentRel = slash < 0 ? '' : rel.slice(0, slash);
      let parent = parents.get(parentRel);
      if (parent === undefined) {
        parent = ensureDir(dest, parentRel, ROOT, posix.join(shown, parentRel), true);
        parents.set(parentRel, parent);
      }
      const abs = parent + '/' + rel.slice(slash + 1);
      const st = lstatSync(abs, { throwIfNoEntry: false });
      if (st && !(st.isDirectory() && h.type === 'dir')) {
        rmSync(abs, { recursive: true, force: true });
        for (const key of parents.keys()) if (key === rel || key.startsWith(rel + '/')) parents.delete(key);
      }
      let chmod = true;
      switch (h.type) {
        case 'dir':
          if (!st?.isDirectory()) mkdirSync(abs);
          break;
        case 'file':
          await pipeline(body, createWriteStream(abs, { mode: 0o600 }));
          break;
        case 'symlink':
          symlinkSync(h.linkname, abs);
          chmod = false;
          break;
        case 'hardlink': {
          const target = secureJoin(dest, h.linkname, false);
          linkSync(target, abs);
          chmod = !lstatSync(target).isSymbolicLink();
          break;
        }
        default: {
          const kind = h.type === 'char' ? 'c' : h.type === 'block' ? 'b' : 'p';
          const args = kind === 'p' ? [abs, 'p'] : [abs, kind, String(h.devmajor), String(h.devminor)];
          const r = spawnSync('mknod', args, { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`mknod: ${r.stderr || r.error?.message}`);
        }
      }
      lchownSync(abs, h.uid, h.gid);
      // chmod after chown: chown clears setuid/setgid.
      if (chmod) chmodSync(abs, h.mode);
      if (Object.keys(h.xattrs).length > 0) xattrs.push({ path: abs, xattrs: h.xattrs });
    }
  } catch (e) {
    if (e instanceof CopyError) throw e;
    const why = d.stderr() || (e as Error).message;
    throw new CopyError(
      'bad-archive',
      `cannot extract ${posix.join(shown, current)} from an ADDed archive: ${why}`,
      shown,
      { cause: e },
    );
  } finally {
    d.close();
  }
  await writeXattrs(xattrs);
}
