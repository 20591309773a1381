import type { Stats } from 'node:fs';
import { runTool } from '../host/spawn.js';

// Node has no xattr API, so extended attributes go through Debian's `attr` tools, many paths per process
// call. getfattr/setfattr share one text format ("# file: <path>" then "name=0s<base64>"), which also
// makes restoring binary values exact.

const BATCH = 500;

/** Xattrs as content: overlayfs's own bookkeeping (trusted.overlay.*, seen when layer dirs are read) left out. */
export function contentXattrs(xattrs: Record<string, Buffer> | undefined): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(xattrs ?? {}).filter(([name]) => !name.startsWith('trusted.overlay.')));
}

async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const { code, stdout, stderr } = await runTool(cmd, args, input === undefined ? {} : { input }).catch((e: Error) => {
    throw new Error(`${cmd}: ${e.message} (install Debian package attr)`);
  });
  if (code !== 0) throw new Error(`${cmd} exited with ${code}: ${stderr.toString().trim()}`);
  return stdout.toString('latin1');
}

/** getfattr writes awkward bytes in paths as \ooo octal escapes; latin1 keeps raw bytes 1:1. */
function unescapePath(s: string): string {
  const raw = s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return Buffer.from(raw, 'latin1').toString('utf8');
}

function escapePath(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    out +=
      byte <= 0x20 || byte >= 0x7f || byte === 0x5c
        ? `\\${byte.toString(8).padStart(3, '0')}`
        : String.fromCharCode(byte);
  }
  return out;
}

/** Extended attributes of each absolute path (not following symlinks); paths without any are absent. */
export async function readXattrs(paths: readonly string[]): Promise<Map<string, Record<string, Buffer>>> {
  const result = new Map<string, Record<string, Buffer>>();
  for (let i = 0; i < paths.length; i += BATCH) {
    const batch = paths.slice(i, i + BATCH);
    const text = await run('getfattr', ['-h', '-d', '-m', '-', '--absolute-names', '-e', 'base64', '--', ...batch]);
    let current: Record<string, Buffer> | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('# file: ')) {
        current = {};
        result.set(unescapePath(line.slice('# file: '.length)), current);
      } else if (current && line.includes('=')) {
        const eq = line.indexOf('=');
        const value = line.slice(eq + 1);
        current[Buffer.from(line.slice(0, eq), 'latin1').toString('utf8')] = value.startsWith('0s')
          ? Buffer.from(value.slice(2), 'base64')
          : Buffer.from(value.replace(/^"|"$/g, ''), 'latin1');
      }
    }
  }
  return result;
}

/** Sets extended attributes on absolute paths (not following symlinks), one setfattr per batch. */
export async function writeXattrs(
  items: ReadonlyArray<{ path: string; xattrs: Record<string, Buffer> }>,
): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) {
    let dump = '';
    for (const { path, xattrs } of items.slice(i, i + BATCH)) {
      dump += `# file: ${escapePath(path)}\n`;
      for (const [name, value] of Object.entries(xattrs)) dump += `${name}=0s${value.toString('base64')}\n`;
      dump += '\n';
    }
    await run('setfattr', ['-h', '--restore=-'], dump);
  }
}

/**
 * Xattrs of layer directories (lowerdirs), remembered by path, inode and ctime (setting an xattr
 * changes the ctime, so a remembered answer stays true): a watch session looks the same lowerdirs up
 * on every rebuild, and each getfattr process costs ~2 ms. Only for trees that do not change.
 */
const remembered = new Map<string, Record<string, Buffer>>();
const REMEMBERED = 1024;

/** readXattrs for paths already lstat-ed, answered from memory where it can. */
export async function readLayerXattrs(
  items: ReadonlyArray<{ path: string; stat: Stats }>,
): Promise<Map<string, Record<string, Buffer>>> {
  const out = new Map<string, Record<string, Buffer>>();
  const unknown = new Map<string, string>();
  for (const { path, stat } of items) {
    const told = declaredXattrs(path);
    if (told !== undefined) {
      if (Object.keys(told).length > 0) out.set(path, told);
      continue;
    }
    const key = `${path}\0${stat.dev}\0${stat.ino}\0${stat.ctimeMs}`;
    const known = remembered.get(key);
    if (known === undefined) {
      unknown.set(path, key);
      continue;
    }
    remember(key, known);
    if (Object.keys(known).length > 0) out.set(path, known);
  }
  if (unknown.size === 0) return out;
  const read = await readXattrs([...unknown.keys()]);
  for (const [path, key] of unknown) {
    const xattrs = read.get(path) ?? {};
    if (Object.keys(xattrs).length > 0) out.set(path, xattrs);
    remember(key, xattrs);
  }
  return out;
}

/** The tar entry that marks its directory opaque (OCI's whiteout for overlay's opaque xattr). */
const OPAQUE_MARK = '.wh..wh..opq';

/** Layer directories whose every xattr is known (declareLayerXattrs), by directory. */
const declared = new Map<string, ReadonlyMap<string, Record<string, Buffer>>>();
const DECLARED = 1024;

/**
 * Tells readLayerXattrs every xattr of the layer directory `dir`: `xattrs` by path relative to it
 * ('' for `dir` itself), overlay's opaque marks included; an entry it does not name has none. The
 * engine keeps this beside each snapshot it makes (layerXattrs gives it from the layer's entries),
 * so that a later process looks a layer up without getfattr.
 */
export function declareLayerXattrs(dir: string, xattrs: ReadonlyMap<string, Record<string, Buffer>>): void {
  declared.delete(dir);
  if (declared.size >= DECLARED) declared.delete(declared.keys().next().value!);
  declared.set(dir, xattrs);
}

/** Whether declareLayerXattrs was told about the layer directory `dir` (and still remembers it). */
export function isLayerDeclared(dir: string): boolean {
  return declared.has(dir);
}

/** The xattrs a declared layer gives `path`, if `path` lies in one. */
function declaredXattrs(path: string): Record<string, Buffer> | undefined {
  if (declared.size === 0) return undefined;
  for (let end = path.length; end > 0; end = path.lastIndexOf('/', end - 1)) {
    const layer = declared.get(path.slice(0, end));
    if (layer) return layer.get(end === path.length ? '' : path.slice(end + 1)) ?? {};
  }
  return undefined;
}

/**
 * Every xattr a layer's entries put on its directory (declareLayerXattrs's form): their own, shared
 * by every path of a hardlinked file (xattrs belong to the inode), and trusted.overlay.opaque=y on
 * each directory an opaque whiteout entry marks. Entries are taken in order, as they are applied.
 */
export function layerXattrs(
  items: ReadonlyArray<{
    path: string;
    type?: string | undefined;
    linkname?: string | undefined;
    xattrs?: Record<string, Buffer> | undefined;
  }>,
): Map<string, Record<string, Buffer>> {
  // Hardlinks by path, to the path they link to; a file's xattrs are kept under its first path.
  const links = new Map<string, string>();
  for (const { path, type, linkname } of items)
    if (type === 'hardlink' && linkname !== undefined) links.set(path, linkname);
  const inode = (path: string): string => {
    for (let seen = 0; links.has(path) && seen <= links.size; seen++) path = links.get(path)!;
    return path;
  };
  const byInode = new Map<string, Record<string, Buffer>>();
  for (const { path, xattrs } of items) {
    let own = xattrs;
    let at = inode(path);
    if (path === OPAQUE_MARK || path.endsWith(`/${OPAQUE_MARK}`)) {
      at = path.slice(0, Math.max(0, path.length - OPAQUE_MARK.length - 1));
      own = { 'trusted.overlay.opaque': Buffer.from('y') };
    }
    if (own && Object.keys(own).length > 0) byInode.set(at, { ...byInode.get(at), ...own });
  }
  const out = new Map<string, Record<string, Buffer>>(byInode);
  for (const path of links.keys()) {
    const shared = byInode.get(inode(path));
    if (shared) out.set(path, shared);
  }
  return out;
}

function remember(key: string, xattrs: Record<string, Buffer>): void {
  remembered.delete(key);
  if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
  remembered.set(key, xattrs);
}
