/**
 * What "the same image" means for the equivalence tests, and the comparator that lists every way
 * two images differ.
 *
 * The filesystem is read the way a user meets it: `docker create` + `docker export` of each image
 * (the merged rootfs, all layers applied), parsed with core's own tar reader. Every entry is kept
 * with its path, type, mode (setuid/setgid/sticky included), uid, gid, size, content digest, link
 * target (symlinks: as stored; hardlinks: the path they point at), device numbers and xattrs.
 * Modification times are deliberately not compared: layers are reproducible by design, and
 * BuildKit's and drydock's epochs differ. Nothing else is left out. `docker export` adds its own
 * files (`/.dockerenv`, `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`, `/etc/mtab`, `/dev`,
 * `/proc`, `/sys`): those come from the container's init layer, which docker makes the same way
 * for both images, so they compare equal unless the images underneath differ there, which is
 * exactly what should be reported.
 *
 * The config is `docker image inspect`'s `.Config`, field by field (see CONFIG_FIELDS); docker
 * prints an absent field as null, so absent and null are one value, while `[]` or `{}` differ from
 * null because they are different image configs. The history is `docker history`'s CreatedBy of
 * each entry, base image's included, oldest first.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { readTar, type TarHeader } from '../../core/src/oci/tar-reader.js';
import { DOCKER, ok } from '../e2e/helpers.js';
import { docker } from './proc.js';

/** Files up to this size keep their content, for feature checks and readable diffs. */
const KEEP_CONTENT = 4096;

export interface FsEntry {
  /** Absolute path in the image, `/` first. */
  path: string;
  type: TarHeader['type'];
  /** Permission bits with setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** sha256 of a regular file's content. */
  digest?: string;
  /** Content of a small regular file. */
  content?: Buffer;
  /** Symlink target as stored; for hardlinks, the absolute path of the entry they link to. */
  linkname?: string;
  /** `major:minor` of a device node. */
  device?: string;
  /** Extended attribute name → sha256 of its value. */
  xattrs?: Record<string, string>;
}

export type Filesystem = Map<string, FsEntry>;

/** The image config fields that must be equal. */
export const CONFIG_FIELDS = [
  'Env',
  'Cmd',
  'Entrypoint',
  'User',
  'WorkingDir',
  'ExposedPorts',
  'Volumes',
  'Labels',
  'StopSignal',
  'Healthcheck',
  'Shell',
  'OnBuild',
] as const;
export type ConfigField = (typeof CONFIG_FIELDS)[number];
export type PickedConfig = Record<ConfigField, unknown>;

export interface Snapshot {
  /** What to call this side in a diff: "buildkit", "drydock". */
  side: string;
  tag: string;
  fs: Filesystem;
  config: PickedConfig;
  /** Each history entry's created_by, oldest first. */
  history: string[];
}

// ------------------------------------------------------------------------------------------------
// Reading an image

/** The image's merged filesystem, through `docker create` + `docker export`. */
export async function exportFilesystem(tag: string): Promise<Filesystem> {
  // A command is given so that images with neither CMD nor ENTRYPOINT can be created too; the
  // container is never started.
  const created = ok(`docker create ${tag}`, await docker(['create', tag, '/equivalence-never-started']));
  const id = created.stdout.trim();
  try {
    return await readExport(id);
  } finally {
    await docker(['rm', '-f', '-v', id]);
  }
}

async function readExport(container: string): Promise<Filesystem> {
  const child = spawn(DOCKER, ['export', container], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  const fs: Filesystem = new Map();
  // readTar stops at the end-of-archive block; what follows (padding) must still be read, or
  // docker export blocks writing it and never exits. So the stream's iterator stays ours.
  const chunks = (child.stdout as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const source: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => chunks };
  try {
    for await (const { header, body } of readTar(source)) {
      const path = '/' + header.path;
      const entry: FsEntry = { path, type: header.type, mode: header.mode, uid: header.uid, gid: header.gid, size: 0 };
      if (header.type === 'file') {
        const hash = createHash('sha256');
        const kept: Buffer[] = [];
        let size = 0;
        for await (const chunk of body) {
          hash.update(chunk);
          size += chunk.length;
          if (size <= KEEP_CONTENT) kept.push(chunk);
        }
        entry.size = size;
        entry.digest = 'sha256:' + hash.digest('hex');
        if (size <= KEEP_CONTENT) entry.content = Buffer.concat(kept);
      }
      if (header.type === 'symlink') entry.linkname = header.linkname;
      if (header.type === 'hardlink') entry.linkname = '/' + header.linkname.replace(/^\/+/, '');
      if (header.type === 'char' || header.type === 'block') entry.device = `${header.devmajor}:${header.devminor}`;
      const names = Object.keys(header.xattrs).sort();
      if (names.length > 0) {
        entry.xattrs = Object.fromEntries(
          names.map((n) => [n, createHash('sha256').update(header.xattrs[n]!).digest('hex').slice(0, 16)]),
        );
      }
      if (fs.has(path)) throw new Error(`docker export ${container}: ${path} appears twice`);
      fs.set(path, entry);
    }
    while (!(await chunks.next()).done);
  } catch (error) {
    await chunks.return?.();
    child.kill();
    throw error;
  }
  const code = await exited;
  if (code !== 0) throw new Error(`docker export ${container} exited ${code}: ${Buffer.concat(stderr).toString()}`);
  return fs;
}

interface InspectedImage {
  Config: Record<string, unknown>;
}

/** The compared fields of `docker image inspect`'s `.Config`; absent fields read as null. */
export async function imageConfig(tag: string): Promise<PickedConfig> {
  const r = ok(`docker image inspect ${tag}`, await docker(['image', 'inspect', tag]));
  const config = (JSON.parse(r.stdout) as InspectedImage[])[0]!.Config;
  return Object.fromEntries(CONFIG_FIELDS.map((f) => [f, config[f] ?? null])) as PickedConfig;
}

/** `docker history`'s CreatedBy of each entry, oldest first. */
export async function imageHistory(tag: string): Promise<string[]> {
  const r = ok(
    `docker history ${tag}`,
    await docker(['history', '--no-trunc', '--format', '{{json .CreatedBy}}', tag]),
  );
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as string)
    .reverse();
}

export async function snapshot(side: string, tag: string): Promise<Snapshot> {
  const [fs, config, history] = await Promise.all([exportFilesystem(tag), imageConfig(tag), imageHistory(tag)]);
  return { side, tag, fs, config, history };
}

// ------------------------------------------------------------------------------------------------
// Comparing

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** One line per entry: what `ls -l` would say, plus the content digest. */
export function describeEntry(e: FsEntry): string {
  const owner = `${e.uid}:${e.gid}`;
  switch (e.type) {
    case 'file':
      return `file ${octal(e.mode)} ${owner} ${e.size}B ${e.digest!.slice(0, 19)}${preview(e)}`;
    case 'symlink':
      return `symlink ${octal(e.mode)} ${owner} -> ${e.linkname}`;
    case 'hardlink':
      return `hardlink ${octal(e.mode)} ${owner} => ${e.linkname}`;
    case 'char':
    case 'block':
      return `${e.type} ${octal(e.mode)} ${owner} ${e.device}`;
    default:
      return `${e.type} ${octal(e.mode)} ${owner}`;
  }
}

function preview(e: FsEntry): string {
  if (!e.content || e.content.length > 80 || e.content.includes(0)) return '';
  return ` ${JSON.stringify(e.content.toString('utf8'))}`;
}

const FIELDS: readonly { name: string; show: (e: FsEntry) => string }[] = [
  { name: 'type', show: (e) => e.type },
  { name: 'mode', show: (e) => octal(e.mode) },
  { name: 'uid', show: (e) => String(e.uid) },
  { name: 'gid', show: (e) => String(e.gid) },
  { name: 'size', show: (e) => String(e.size) },
  { name: 'content', show: (e) => (e.digest ? e.digest.slice(0, 19) + preview(e) : '-') },
  { name: 'link target', show: (e) => e.linkname ?? '-' },
  { name: 'device', show: (e) => e.device ?? '-' },
  { name: 'xattrs', show: (e) => JSON.stringify(e.xattrs ?? {}) },
];

/**
 * The one difference drydock makes on purpose: docker 20.10's BuildKit leaves an empty 0755 root
 * directory where a RUN mount had nothing to mount on (`/cache`, `/run/secrets`, …); issue 3
 * requires that mount stubs never land in a layer, so drydock's images do not have them. Only these
 * paths, only when empty, only on the BuildKit side, may differ.
 */
const MOUNT_STUBS = new Set([
  '/cache',
  '/owned-cache',
  '/seeded-cache',
  '/run',
  '/run/secrets',
  '/ctx',
  '/mnt',
  '/mnt/tools',
  '/rw',
  '/scratch',
]);

function isMountStub(s: Snapshot, path: string): boolean {
  const e = s.fs.get(path);
  return (
    s.side === 'buildkit' &&
    MOUNT_STUBS.has(path) &&
    e !== undefined &&
    e.type === 'dir' &&
    e.mode === 0o755 &&
    e.uid === 0 &&
    e.gid === 0 &&
    [...s.fs.keys()].every((p) => !p.startsWith(`${path}/`) || MOUNT_STUBS.has(p))
  );
}

/** Every difference between two filesystems, one line each, in path order. */
export function diffFilesystems(a: Snapshot, b: Snapshot): string[] {
  const lines: string[] = [];
  const paths = [...new Set([...a.fs.keys(), ...b.fs.keys()])].sort();
  for (const path of paths) {
    const x = a.fs.get(path);
    const y = b.fs.get(path);
    if (!y && isMountStub(a, path)) continue;
    if (!y) lines.push(`${path}: only in ${a.side} (${describeEntry(x!)})`);
    else if (!x) lines.push(`${path}: only in ${b.side} (${describeEntry(y)})`);
    else {
      const differing = FIELDS.filter((f) => f.show(x) !== f.show(y));
      if (differing.length > 0) {
        lines.push(
          `${path}: ${differing.map((f) => `${f.name} ${f.show(x)} (${a.side}) vs ${f.show(y)} (${b.side})`).join('; ')}`,
        );
      }
    }
  }
  return lines;
}

/** Every differing config field, one line each. */
export function diffConfigs(a: Snapshot, b: Snapshot): string[] {
  const lines: string[] = [];
  for (const field of CONFIG_FIELDS) {
    const x = a.config[field];
    const y = b.config[field];
    if (!isDeepStrictEqual(x, y)) {
      lines.push(`config ${field}: ${JSON.stringify(x)} (${a.side}) vs ${JSON.stringify(y)} (${b.side})`);
    }
  }
  return lines;
}

/** Every history entry that differs, by position, one line each. */
export function diffHistories(a: Snapshot, b: Snapshot): string[] {
  const lines: string[] = [];
  for (let i = 0; i < Math.max(a.history.length, b.history.length); i++) {
    const x = a.history[i];
    const y = b.history[i];
    const shown = (h: string | undefined): string => (h === undefined ? 'none' : JSON.stringify(h));
    if (x !== y) lines.push(`history ${i}: ${shown(x)} (${a.side}) vs ${shown(y)} (${b.side})`);
  }
  return lines;
}

export function diffImages(a: Snapshot, b: Snapshot): string[] {
  return [...diffConfigs(a, b), ...diffHistories(a, b), ...diffFilesystems(a, b)];
}

const MAX_LINES = 150;

/** Throws, listing every difference (up to MAX_LINES), unless the two images are the same. */
export function expectSameImage(what: string, a: Snapshot, b: Snapshot): void {
  const lines = diffImages(a, b);
  if (lines.length === 0) return;
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > MAX_LINES) shown.push(`… and ${lines.length - MAX_LINES} more`);
  throw new Error(
    `${what}: ${lines.length} difference(s) between ${a.side} (${a.tag}) and ${b.side} (${b.tag}):\n  ` +
      shown.join('\n  '),
  );
}

/** The entry at `path`, or an error naming the side and the closest paths. */
export function entry(s: Snapshot, path: string): FsEntry {
  const e = s.fs.get(path);
  if (e) return e;
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const near = [...s.fs.keys()].filter((p) => p.startsWith(dir)).slice(0, 20);
  throw new Error(`${s.side} image ${s.tag} has no ${path} (under ${dir}: ${near.join(', ') || 'nothing'})`);
}

/** A small file's content as text. */
export function text(s: Snapshot, path: string): string {
  const e = entry(s, path);
  if (e.type !== 'file' || !e.content) throw new Error(`${s.side} image ${s.tag}: ${path} is not a small file`);
  return e.content.toString('utf8');
}

/** Paths under `dir` (not `dir` itself), sorted. */
export function under(s: Snapshot, dir: string): string[] {
  return [...s.fs.keys()].filter((p) => p.startsWith(dir + '/')).sort();
}

// ------------------------------------------------------------------------------------------------
// A rootfs on disk (umoci unpack), read as `docker export` would write it

/**
 * What docker's init layer puts into every container (moby daemon/initlayer): these paths in a
 * `docker export` come from docker, not from the image, so they are left out when an export is
 * compared with a rootfs that no container ever ran on. Their parents (`/dev`, `/etc`) are left
 * out too when the rootfs has none, since docker then made them.
 */
export const DOCKER_INIT_PATHS = [
  '/.dockerenv',
  '/dev/console',
  '/dev/pts',
  '/dev/shm',
  '/etc/hostname',
  '/etc/hosts',
  '/etc/mtab',
  '/etc/resolv.conf',
  '/proc',
  '/sys',
] as const;

/**
 * `s` without docker's init-layer paths, and without `/dev` and `/etc` when `rootfs` lacks them.
 * Apply to both sides: where the image has such a path (`/proc` in Debian), docker may still have
 * replaced it (an empty `/etc/hosts`) or kept it, so it says nothing either way.
 */
export function withoutDockerInit(s: Snapshot, rootfs: Snapshot): Snapshot {
  const fs: Filesystem = new Map();
  const init = new Set<string>(DOCKER_INIT_PATHS);
  for (const [path, e] of s.fs) {
    if (init.has(path)) continue;
    if ((path === '/dev' || path === '/etc') && !rootfs.fs.has(path)) continue;
    fs.set(path, e);
  }
  return { ...s, fs };
}

/**
 * A rootfs directory as `docker export` would list it: a depth-first walk with each directory's
 * names in byte order (Go's filepath.Walk), the first path of an inode met as the file and later
 * ones as hardlinks to it. Extended attributes are not read (docker export writes only
 * security.capability, which none of the compared images carry).
 */
export async function readRootfs(side: string, root: string): Promise<Snapshot> {
  const fs: Filesystem = new Map();
  const inodes = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const abs = join(dir, name);
      const path = `${rel}/${name}`;
      const st = await lstat(abs, { bigint: false });
      const base = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: 0 };
      const key = `${st.dev}:${st.ino}`;
      if (!st.isDirectory() && st.nlink > 1 && inodes.has(key)) {
        fs.set(path, { ...base, type: 'hardlink', linkname: inodes.get(key)! });
        continue;
      }
      if (!st.isDirectory() && st.nlink > 1) inodes.set(key, path);
      if (st.isDirectory()) {
        fs.set(path, { ...base, type: 'dir' });
        await walk(abs, path);
      } else if (st.isSymbolicLink()) fs.set(path, { ...base, type: 'symlink', linkname: await readlink(abs) });
      else if (st.isFile()) {
        const hash = createHash('sha256');
        const kept: Buffer[] = [];
        for await (const chunk of createReadStream(abs) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          if (st.size <= KEEP_CONTENT) kept.push(chunk);
        }
        fs.set(path, {
          ...base,
          type: 'file',
          size: st.size,
          digest: 'sha256:' + hash.digest('hex'),
          ...(st.size <= KEEP_CONTENT ? { content: Buffer.concat(kept) } : {}),
        });
      } else if (st.isFIFO()) fs.set(path, { ...base, type: 'fifo' });
      else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const device = `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
        fs.set(path, { ...base, type: st.isCharacterDevice() ? 'char' : 'block', device });
      }
      // Sockets: docker export skips them too.
    }
  };
  await walk(root, '');
  return {
    side,
    tag: root,
    fs,
    config: Object.fromEntries(CONFIG_FIELDS.map((f) => [f, null])) as PickedConfig,
    history: [],
  };
}
