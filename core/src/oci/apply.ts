import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  symlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { checkEntryPath } from './entry.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './from-upperdir.js';
import { TarParser, type TarHeader } from './tar-parser.js';
import { layerXattrs, writeXattrs } from './xattr.js';

// A layer applied this way is an overlay *lowerdir*, not a merged filesystem: whiteouts stay as what
// overlayfs understands (0:0 char devices, trusted.overlay.opaque=y) instead of deleting anything, so
// stacking the per-layer dirs as lowerdirs gives the same view as applying the layers in order.
//
// Speed: a layer has thousands of small files, so the tar is parsed by a push parser and every entry is
// made with synchronous calls (no promise or thread-pool round trip per file) while gunzip runs on the
// thread pool. The directory starts empty, so what exists is exactly what this apply made: a map of it
// replaces an lstat per entry.

const MKNOD_BATCH = 200;
const READ_CHUNK = 1024 * 1024;

interface Node {
  abs: string;
  kind: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  header?: TarHeader;
  /** Replaced by a later entry of the layer before it was made. */
  dropped?: boolean;
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
function isGzip(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    return readSync(fd, magic, 0, 2, 0) === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

function setMeta(abs: string, h: TarHeader, isSymlink: boolean): void {
  lchownSync(abs, h.uid, h.gid);
  // chmod after chown: chown clears setuid/setgid bits.
  if (!isSymlink) chmodSync(abs, h.mode);
  lutimesSync(abs, h.mtime, h.mtime);
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off);
}

/** What this apply has made at a path; `node` is a device, fifo or whiteout still to be made by mknod. */
type Made = 'dir' | 'other' | Node;

/**
 * Extracts a gzip layer into `dir` as an overlay lowerdir. Ownership, modes, symlinks, hardlinks, devices
 * and xattrs are kept (root is needed); `.wh.<name>` becomes a 0:0 char device and `.wh..wh..opq` marks its
 * directory opaque. Paths never escape `dir`: `..` is rejected and no entry is written through a symlink.
 * `dir` must be empty or missing.
 */
export async function applyLayerAsLowerdir(layerPath: string, dir: string): Promise<LayerXattrs> {
  const file = createReadStream(layerPath, { highWaterMark: READ_CHUNK });
  // pipeline() passes a read error on to gunzip, where the loop sees it; its callback has nothing to add.
  const input = isGzip(layerPath) ? pipeline(file, createGunzip({ chunkSize: 256 * 1024 }), () => {}) : file;
  return applyTarAsLowerdir(input, dir, layerPath);
}

/** Every xattr a lowerdir's entries carry, by path relative to it (declareLayerXattrs's form). */
export type LayerXattrs = Map<string, Record<string, Buffer>>;

/**
 * The same from a stream of the layer as it arrives (a download), gzip or plain (told by its
 * first bytes, as for a file). The uncompressed tar must hash to `diffId`: snapshots are shared
 * by diff_id, so one made from other content would be served to every image naming that id.
 * The caller decides what a failed stream means; `dir` is left half-written then.
 */
export async function applyLayerStreamAsLowerdir(
  layer: Readable,
  dir: string,
  diffId: string,
  label: string,
): Promise<LayerXattrs> {
  const head = await firstBytes(layer);
  const rest = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      yield* layer;
    })(),
  );
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const input = gzip ? pipeline(rest, createGunzip({ chunkSize: 256 * 1024 }), () => {}) : rest;
  const hash = createHash('sha256');
  const hashed = (async function* () {
    for await (const chunk of input) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  })();
  const xattrs = await applyTarAsLowerdir(hashed, dir, label);
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffId) throw new Error(`layer ${label}: its tar is ${actual}, the image config says ${diffId}`);
  return xattrs;
}

/** The stream's first chunk (empty at its end), read without losing it. */
async function firstBytes(stream: Readable): Promise<Buffer> {
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) return chunk as Buffer;
  return Buffer.alloc(0);
}

/** Extracts an uncompressed tar stream into `dir` (see applyLayerAsLowerdir); `layerPath` names it in errors. */
async function applyTarAsLowerdir(input: AsyncIterable<unknown>, dir: string, layerPath: string): Promise<LayerXattrs> {
  const writer = lowerdirWriter(dir, layerPath);
  try {
    for await (const chunk of input) writer.push(chunk as Buffer);
  } catch (error) {
    writer.abort();
    throw error;
  }
  return writer.finish();
}

/** A lowerdir being written from tar bytes pushed in order, as they are made or read. */
export interface LowerdirWriter {
  push(chunk: Buffer): void;
  /** After the last chunk: makes devices, links, xattrs and directory metadata; gives the xattrs it set. */
  finish(): Promise<LayerXattrs>;
  /** Stops after a failure (closes what is open); the directory is left for the caller to remove. */
  abort(): void;
}

/**
 * Writes an uncompressed tar, pushed chunk by chunk, into `dir` as an overlay lowerdir (see
 * applyLayerAsLowerdir). A layer being written can feed its own tar bytes here, so that its snapshot
 * exists without reading the blob back. `label` names the layer in errors; `dir` must be empty or missing.
 */
export function lowerdirWriter(dir: string, label: string): LowerdirWriter {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`layer ${label}: ${dir} is not empty`);
  const made = new Map<string, Made>();
  // By path, in the order first made (parents before children). A later entry of the same path
  // replaces what an earlier one said, or, for two directories, merges into it as tar does.
  const dirs = new Map<string, { abs: string; header: TarHeader }>();
  const xattrs = new Map<string, { abs: string; xattrs: Record<string, Buffer> }>();
  const hardlinks = new Map<string, string>();
  const nodes: Node[] = [];
  const deferredLinks: Array<{ abs: string; target: string }> = [];

  // Parents must be real directories of this layer; missing ones are created like tar does (0755 root).
  // Every ancestor of a directory in `made` is one too, so a known parent ends the check.
  const ensureParent = (path: string): void => {
    const slash = path.lastIndexOf('/');
    if (slash === -1 || made.get(path.slice(0, slash)) === 'dir') return;
    let rel = '';
    for (const part of path.slice(0, slash).split('/')) {
      rel = rel ? `${rel}/${part}` : part;
      const have = made.get(rel);
      if (have === 'dir') continue;
      if (have !== undefined) {
        throw new Error(`layer ${label}: ${path} lies below ${rel}, which is not a directory`);
      }
      mkdirSync(join(dir, rel), { mode: 0o755 });
      made.set(rel, 'dir');
    }
  };

  // A path made earlier in this layer is replaced, unless both are directories (then merged, as tar does).
  const replace = (path: string, abs: string, keepDir: boolean): boolean => {
    const have = made.get(path);
    if (have === undefined) return false;
    if (keepDir && have === 'dir') return true;
    if (typeof have === 'object') have.dropped = true;
    else rmSync(abs, { recursive: true, force: true });
    // Only on an actual replacement: forget what was below it.
    for (const [known, what] of made) {
      if (known.startsWith(`${path}/`)) {
        if (typeof what === 'object') what.dropped = true;
        made.delete(known);
      }
    }
    made.delete(path);
    // And what it said of itself and of what was below it.
    for (const said of [dirs, xattrs, hardlinks]) {
      for (const known of said.keys()) if (known === path || known.startsWith(`${path}/`)) said.delete(known);
    }
    return false;
  };

  // The file being written, if the current entry is one.
  let fd: number | undefined;
  let header: TarHeader | undefined;

  const onEntry = (h: TarHeader): void => {
    // Layers made by `tar -C dir .` (docker import, many tools) name entries `./x` and include `./` itself.
    h.path = tarPath(h.path);
    if (h.path === '') return;
    if (h.type === 'hardlink') h.linkname = tarPath(h.linkname);
    checkEntryPath(h.path);
    ensureParent(h.path);
    const slash = h.path.lastIndexOf('/');
    const parent = h.path.slice(0, slash + 1);
    const base = h.path.slice(slash + 1);
    const abs = join(dir, h.path);
    if (base === OPAQUE_WHITEOUT) {
      const at = parent.slice(0, -1);
      const opaque = { 'trusted.overlay.opaque': Buffer.from('y') };
      xattrs.set(at, { abs: join(dir, at), xattrs: { ...xattrs.get(at)?.xattrs, ...opaque } });
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      const path = parent + base.slice(WHITEOUT_PREFIX.length);
      const target = join(dir, path);
      replace(path, target, false);
      const node: Node = { abs: target, kind: 'c', major: 0, minor: 0 };
      nodes.push(node);
      made.set(path, node);
      return;
    }
    const existingDir = replace(h.path, abs, h.type === 'dir');
    if (Object.keys(h.xattrs).length > 0) {
      xattrs.set(h.path, { abs, xattrs: { ...xattrs.get(h.path)?.xattrs, ...h.xattrs } });
    }
    switch (h.type) {
      case 'dir':
        if (!existingDir) mkdirSync(abs, { mode: 0o700 });
        made.set(h.path, 'dir');
        dirs.set(h.path, { abs, header: h });
        break;
      case 'file':
        // O_EXCL: never opens through a symlink; metadata is set on the descriptor when the data is in.
        fd = openSync(abs, 'wx', 0o600);
        header = h;
        made.set(h.path, 'other');
        break;
      case 'symlink':
        symlinkSync(h.linkname, abs);
        made.set(h.path, 'other');
        setMeta(abs, h, true);
        break;
      case 'hardlink': {
        checkEntryPath(h.linkname);
        // link(2) follows symlinks in the target's parents: they must be real directories of this layer.
        ensureParent(h.linkname);
        const target = made.get(h.linkname);
        if (typeof target === 'object') deferredLinks.push({ abs, target: target.abs });
        else linkSync(join(dir, h.linkname), abs);
        made.set(h.path, 'other');
        hardlinks.set(h.path, h.linkname);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo': {
        const node: Node = {
          abs,
          kind: h.type === 'char' ? 'c' : h.type === 'block' ? 'b' : 'p',
          major: h.devmajor,
          minor: h.devminor,
          header: h,
        };
        nodes.push(node);
        made.set(h.path, node);
        break;
      }
    }
  };

  const parser = new TarParser({
    entry: onEntry,
    data: (chunk) => {
      if (fd !== undefined) writeAll(fd, chunk);
    },
    end: () => {
      if (fd === undefined) return;
      const h = header!;
      fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode); // after chown, which clears setuid/setgid
      futimesSync(fd, h.mtime, h.mtime);
      closeSync(fd);
      fd = header = undefined;
    },
  });

  const abort = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = header = undefined;
  };
  return {
    push(chunk) {
      try {
        parser.push(chunk);
      } catch (error) {
        abort();
        throw error;
      }
    },
    abort,
    async finish() {
      try {
        parser.end();
      } finally {
        abort();
      }
      const live = nodes.filter((n) => !n.dropped);
      await mknodAll(live);
      for (const n of live) if (n.header) setMeta(n.abs, n.header, false);
      for (const l of deferredLinks) linkSync(l.target, l.abs);
      await writeXattrs([...xattrs.values()].map((x) => ({ path: x.abs, xattrs: x.xattrs })));
      // Directory metadata last, deepest first: creating children would change mtimes, and a read-only
      // directory must stay writable until its children exist.
      for (const d of [...dirs.values()].reverse()) setMeta(d.abs, d.header, false);
      return layerXattrs([
        ...[...xattrs].map(([path, x]) => ({ path, xattrs: x.xattrs })),
        ...[...hardlinks].map(([path, linkname]) => ({ path, type: 'hardlink', linkname })),
      ]);
    },
  };
}
