import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { checkEntryPath } from './entry.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './from-upperdir.js';
import { readTar, type TarHeader } from './tar-reader.js';
import { writeXattrs } from './xattr.js';

// A layer applied this way is an overlay *lowerdir*, not a merged filesystem: whiteouts stay as what
// overlayfs understands (0:0 char devices, trusted.overlay.opaque=y) instead of deleting anything, so
// stacking the per-layer dirs as lowerdirs gives the same view as applying the layers in order.

const MKNOD_BATCH = 200;

interface Node {
  abs: string;
  kind: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  header?: TarHeader;
}

/** mknod has no Node API: one shell per batch runs the `mknod` command for each node. */
async function mknodAll(nodes: readonly Node[]): Promise<void> {
  const script =
    'while [ $# -gt 0 ]; do if [ "$2" = p ]; then mknod -m 0 "$1" p; else mknod -m 0 "$1" "$2" "$3" "$4"; fi || exit 1; shift 4; done';
  for (let i = 0; i < nodes.length; i += MKNOD_BATCH) {
    const args = nodes.slice(i, i + MKNOD_BATCH).flatMap((n) => [n.abs, n.kind, String(n.major), String(n.minor)]);
    await new Promise<void>((resolve, reject) => {
      const child = spawn('sh', ['-c', script, 'mknod-batch', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`mknod failed (${code}): ${err.trim()}`)),
      );
    });
  }
}

/** `./a/b/` → `a/b`; `./` and `/` → '' (the root, which a lowerdir does not carry). */
function tarPath(path: string): string {
  let p = path;
  while (p.startsWith('./') || p.startsWith('/')) p = p.startsWith('./') ? p.slice(2) : p.slice(1);
  if (p === '.') return '';
  return p.replace(/\/+$/, '');
}

/** Layers are usually gzip; uncompressed tar layers exist too (docker save, some registries). */
async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

async function exists(abs: string): Promise<import('node:fs').Stats | undefined> {
  return lstat(abs).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
}

async function setMeta(abs: string, h: TarHeader, isSymlink: boolean): Promise<void> {
  await lchown(abs, h.uid, h.gid);
  // chmod after chown: chown clears setuid/setgid bits.
  if (!isSymlink) await chmod(abs, h.mode);
  await lutimes(abs, h.mtime, h.mtime);
}

/**
 * Extracts a gzip layer into `dir` as an overlay lowerdir. Ownership, modes, symlinks, hardlinks, devices
 * and xattrs are kept (root is needed); `.wh.<name>` becomes a 0:0 char device and `.wh..wh..opq` marks its
 * directory opaque. Paths never escape `dir`: `..` is rejected and no entry is written through a symlink.
 */
export async function applyLayerAsLowerdir(layerPath: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const knownDirs = new Set<string>(['']);
  const dirs: Array<{ abs: string; header: TarHeader }> = [];
  const nodes: Node[] = [];
  const pendingNodes = new Set<string>();
  const deferredLinks: Array<{ abs: string; target: string }> = [];
  const xattrs: Array<{ path: string; xattrs: Record<string, Buffer> }> = [];

  // Parents must be real directories inside `dir`; missing ones are created like tar does (0755 root).
  const ensureParent = async (path: string): Promise<void> => {
    const parts = path.split('/').slice(0, -1);
    let rel = '';
    for (const part of parts) {
      rel = rel ? `${rel}/${part}` : part;
      if (knownDirs.has(rel)) continue;
      const st = await exists(join(dir, rel));
      if (!st) await mkdir(join(dir, rel), { mode: 0o755 });
      else if (!st.isDirectory())
        throw new Error(`layer ${layerPath}: ${path} lies below ${rel}, which is not a directory`);
      knownDirs.add(rel);
    }
  };

  // A path replaced by a non-directory is no longer a directory to write below.
  const forget = (path: string): void => {
    for (const known of knownDirs) if (known === path || known.startsWith(`${path}/`)) knownDirs.delete(known);
  };

  const gunzip = (await isGzip(layerPath))
    ? createReadStream(layerPath).pipe(createGunzip())
    : createReadStream(layerPath);
  for await (const { header: h, body } of readTar(gunzip)) {
    // Layers made by `tar -C dir .` (docker import, many tools) name entries `./x` and include `./` itself.
    h.path = tarPath(h.path);
    if (h.path === '') continue; // the reader skips an unread body
    if (h.type === 'hardlink') h.linkname = tarPath(h.linkname);
    checkEntryPath(h.path);
    await ensureParent(h.path);
    const slash = h.path.lastIndexOf('/');
    const parent = h.path.slice(0, slash + 1);
    const base = h.path.slice(slash + 1);
    const abs = join(dir, h.path);
    if (base === OPAQUE_WHITEOUT) {
      xattrs.push({ path: join(dir, parent), xattrs: { 'trusted.overlay.opaque': Buffer.from('y') } });
      continue;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const target = join(dir, parent, base.slice(WHITEOUT_PREFIX.length));
      if (await exists(target)) await rm(target, { recursive: true, force: true });
      forget(h.path.slice(0, slash + 1) + base.slice(WHITEOUT_PREFIX.length));
      nodes.push({ abs: target, kind: 'c', major: 0, minor: 0 });
      continue;
    }
    const existing = await exists(abs);
    if (existing && !(existing.isDirectory() && h.type === 'dir')) await rm(abs, { recursive: true, force: true });
    if (h.type !== 'dir') forget(h.path);
    if (Object.keys(h.xattrs).length > 0) xattrs.push({ path: abs, xattrs: h.xattrs });
    switch (h.type) {
      case 'dir':
        if (!existing) await mkdir(abs, { mode: 0o700 });
        knownDirs.add(h.path);
        dirs.push({ abs, header: h });
        break;
      case 'file':
        await pipeline(body, createWriteStream(abs, { mode: 0o600, flags: 'wx' }));
        await setMeta(abs, h, false);
        break;
      case 'symlink':
        await symlink(h.linkname, abs);
        await setMeta(abs, h, true);
        break;
      case 'hardlink': {
        checkEntryPath(h.linkname);
        // link(2) follows symlinks in the target's parents: they must be real directories of this layer.
        await ensureParent(h.linkname);
        const target = join(dir, h.linkname);
        if (pendingNodes.has(target)) deferredLinks.push({ abs, target });
        else await link(target, abs);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        nodes.push({
          abs,
          kind: h.type === 'char' ? 'c' : h.type === 'block' ? 'b' : 'p',
          major: h.devmajor,
          minor: h.devminor,
          header: h,
        });
        pendingNodes.add(abs);
        break;
    }
  }
  await mknodAll(nodes);
  for (const n of nodes) {
    if (n.header) await setMeta(n.abs, n.header, false);
  }
  for (const l of deferredLinks) await link(l.target, l.abs);
  await writeXattrs(xattrs);
  // Directory metadata last, deepest first: creating children would change mtimes, and a read-only
  // directory must stay writable until its children exist.
  for (const d of dirs.reverse()) await setMeta(d.abs, d.header, false);
}
