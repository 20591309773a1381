import { lstatSync, type Stats } from 'node:fs';
import { spawnTool } from '../host/spawn.js';

// Node has no xattr API, so extended attributes go through Debian's `attr` tools, many paths per process
// call. getfattr/setfattr share one text format ("# file: <path>" then "name=0s<base64>"), which also
// makes restoring binary values exact.

const BATCH = 500;

/** Xattrs as content: overlayfs's own bookkeeping (trusted.overlay.*, seen when layer dirs are read) left out. */
export function contentXattrs(xattrs: Record<string, Buffer> | undefined): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(xattrs ?? {}).filter(([name]) => !name.startsWith('trusted.overlay.')));
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(cmd, args, input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: Error) => reject(new Error(`${cmd}: ${e.message} (install Debian package attr)`)));
    child.on('close', (code: number | null) => {
      if (code === 0) resolve(Buffer.concat(out).toString('latin1'));
      else reject(new Error(`${cmd} exited with ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
  });
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

/**
 * Tells readLayerXattrs what a layer directory written by this process holds, so that it need not
 * ask getfattr: the layer's entries carry their xattrs, and an opaque whiteout entry stands for
 * overlay's opaque mark on its directory. `dir` is the layer's directory, `items` its entries. Only
 * for small layers (a build's output, a COPY of sources): a later step looks up a few of their paths,
 * and the entries of a large one would only push out of memory what is remembered.
 */
export function rememberLayerXattrs(
  dir: string,
  items: ReadonlyArray<{ path: string; type: string; xattrs?: Record<string, Buffer> | undefined }>,
): void {
  if (items.length > REMEMBERED / 4) return;
  const opaque = new Set<string>();
  for (const { path } of items) {
    if (path.endsWith(`/${OPAQUE_MARK}`)) opaque.add(path.slice(0, -OPAQUE_MARK.length - 1));
  }
  for (const { path, type, xattrs } of items) {
    if ((type !== 'dir' && type !== 'file') || path === OPAQUE_MARK || path.endsWith(`/${OPAQUE_MARK}`)) continue;
    const host = `${dir}/${path}`;
    const stat = lstatSync(host, { throwIfNoEntry: false });
    if (!stat) continue;
    const all = { ...(xattrs ?? {}), ...(opaque.has(path) ? { 'trusted.overlay.opaque': Buffer.from('y') } : {}) };
    remember(`${host}\0${stat.dev}\0${stat.ino}\0${stat.ctimeMs}`, all);
  }
}

/** The tar entry that marks its directory opaque (OCI's whiteout for overlay's opaque xattr). */
const OPAQUE_MARK = '.wh..wh..opq';

function remember(key: string, xattrs: Record<string, Buffer>): void {
  remembered.delete(key);
  if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
  remembered.set(key, xattrs);
}
