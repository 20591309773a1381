/**
 * The nodes that change files without a container: COPY, ADD and the directory WORKDIR creates.
 * Each mounts the stage's filesystem, applies itself through the copy leaf (Docker's path
 * semantics live there), and commits the upperdir as a layer.
 */
import { lstatSync } from 'node:fs';
import { lstat, mkdir, chown } from 'node:fs/promises';
import { posix } from 'node:path';
import { applyAdd, applyAddUrl, applyCopy, planCopy, resolveChown, type Owner } from '../copy/index.js';
import { Matcher, destIsDir, selectSources, walkContext, type ContextIndex, type Selection } from '../context/index.js';
import { lookupLowerdirs, type LayerEntry } from '../oci/index.js';
import { filesAt, resolveUser, secureJoin } from '../exec/index.js';
import type { Store } from '../store/index.js';
import { commitUpperdir, startLayer, type LayerTimings, type LayerWrite } from './layers.js';
import { readRootfs, writeRootfs } from './rootfs.js';
import { stageFiles, USER_FILES } from './stage-files.js';

export interface FileNodeBase {
  store: Store;
  /** Snapshots of the stage so far, top first. */
  lowerdirs: readonly string[];
  epoch: number;
  signal?: AbortSignal;
  timings?: LayerTimings;
}

/** Where COPY reads: the context (selection already made, it is part of the cache key) or a stage's filesystem. */
export type CopyFrom =
  | { kind: 'context'; dir: string; selection: Selection; index?: ContextIndex }
  | { kind: 'state'; lowerdirs: readonly string[] };

export interface CopyNodeOptions extends FileNodeBase {
  from: CopyFrom;
  /** Expanded sources, as written. */
  sources: readonly string[];
  exclude?: readonly string[];
  /** Expanded, absolute (resolved against WORKDIR), trailing slash kept. */
  dest: string;
  chown?: string;
  chmod?: string;
  /** ADD: local archives are extracted, URLs downloaded. */
  add?: { urls: readonly string[]; checksum?: string; downloaded?: ReadonlyMap<string, string> };
  /** Always copy through an overlay mount, never from a plan (tests compare the two). */
  materialize?: boolean;
  /** A later step of this build mounts the layer: make its snapshot now, from the tar as it is written. */
  snapshot?: boolean;
}

/** Absolute destination as Docker resolves it: relative to WORKDIR, a trailing `/` (or `.`) kept as "directory". */
export function absoluteDest(dest: string, workdir: string | undefined): string {
  const abs = posix.resolve(workdir || '/', dest);
  return destIsDir(dest) && !abs.endsWith('/') ? `${abs}/` : abs;
}

export async function copyNode(o: CopyNodeOptions): Promise<LayerWrite | undefined> {
  const from = o.from;
  if (from.kind === 'context' && !o.add && !o.materialize) {
    const owner = await plannedOwner(o);
    const planned = await planCopy({
      lowerdirs: o.lowerdirs,
      sourceRoot: from.dir,
      selection: from.selection,
      dest: o.dest,
      ...(owner ? { owner } : {}),
      ...(o.chmod ? { chmod: parseInt(o.chmod, 8) } : {}),
      inode: (src) => {
        const e = from.index?.entries.get(src) ?? lstatSync(posix.join(from.dir, src));
        return `${e.dev}:${e.ino}`;
      },
      // The walk's stats are those the selection's digest was made (or vouched for) with.
      hashed: (src) => from.index?.entries.get(src),
    });
    if (planned) return startLayer(o.store, planned, o.epoch, o.timings, o.snapshot ? { snapshot: 'tee' } : {});
  }
  if (from.kind === 'state' && !o.add && !o.materialize) {
    const planned = await planFromStage(o, from.lowerdirs);
    if (planned) return startLayer(o.store, planned, o.epoch, o.timings, o.snapshot ? { snapshot: 'tee' } : {});
  }
  const apply = async (rootfs: string, sourceRoot: string, selection: Selection, fromStage: boolean): Promise<void> => {
    const owner = o.chown ? await resolveChown(filesAt(rootfs), o.chown) : undefined;
    const chmod = o.chmod ? parseInt(o.chmod, 8) : undefined;
    const index = from.kind === 'context' ? from.index : undefined;
    const common = {
      rootfs,
      sourceRoot,
      selection,
      dest: o.dest,
      fromStage,
      ...(owner ? { owner } : {}),
      ...(chmod !== undefined ? { chmod } : {}),
      // As the planned copy checks them: the walk's stats are those the selection's digest was made with.
      ...(index ? { hashed: (src: string) => index.entries.get(src) } : {}),
    };
    if (o.add) {
      if (selection.length > 0 || o.add.urls.length === 0) await applyAdd(common);
      for (const url of o.add.urls) {
        await applyAddUrl({
          rootfs,
          url,
          dest: o.dest,
          ...(o.add.checksum ? { checksum: o.add.checksum } : {}),
          ...(o.add.downloaded?.has(url) ? { downloaded: o.add.downloaded.get(url)! } : {}),
          ...(owner ? { owner } : {}),
          ...(chmod !== undefined ? { chmod } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
        });
      }
    } else {
      await applyCopy(common);
    }
  };
  const upperdir =
    from.kind === 'context'
      ? await writeRootfs(o.store, o.lowerdirs, (rootfs) => apply(rootfs, from.dir, from.selection, false))
      : await readRootfs(o.store, from.lowerdirs, async (source) => {
          const spec = { sources: o.sources, dest: o.dest, ...(o.exclude ? { exclude: o.exclude } : {}) };
          let selection: Selection;
          try {
            // Walk only along the sources' paths: an image has tens of thousands of files.
            const index = await walkContext(source, new Matcher([]), { descend: alongPaths(o.sources) });
            selection = selectSources(index, spec);
          } catch {
            // A source reached through a symlink (e.g. /lib -> usr/lib) needs the whole tree.
            selection = selectSources(await walkContext(source, new Matcher([])), spec);
          }
          return writeRootfs(o.store, o.lowerdirs, (rootfs) => apply(rootfs, source, selection, true));
        });
  return commitUpperdir(o.store, upperdir, o.epoch, o.timings);
}

/**
 * COPY --from planned without mounting either side, when every source comes whole from one layer
 * of the source stage (the usual build output: a directory one RUN made), so that layer's
 * directory can be read as the merged view would show it. Sources with wildcards, `/`, a directory
 * that several layers merge, or a symlink on the way are left to the real copy (undefined).
 */
async function planFromStage(o: CopyNodeOptions, source: readonly string[]): Promise<LayerEntry[] | undefined> {
  if (o.sources.some((s) => /[*?[\\]/.test(s))) return undefined;
  const rels = o.sources.map((s) => posix.normalize(`/${s}`).slice(1).replace(/\/+$/, ''));
  if (rels.some((rel) => rel === '' || rel === '.')) return undefined;
  const found = await lookupLowerdirs(source, rels);
  let layer: string | undefined;
  for (const rel of rels) {
    const entry = found?.get(rel);
    if (!entry || entry === 'deleted') return undefined; // the real copy reports what is missing
    if (entry.stat.isDirectory() && entry.holders > 1) return undefined;
    const root = entry.host.slice(0, -(rel.length + 1));
    if (layer !== undefined && root !== layer) return undefined;
    layer = root;
  }
  const spec = { sources: o.sources, dest: o.dest, ...(o.exclude ? { exclude: o.exclude } : {}) };
  let index: ContextIndex;
  let selection: Selection;
  try {
    index = await walkContext(layer!, new Matcher([]), { descend: alongPaths(o.sources) });
    selection = selectSources(index, spec);
  } catch {
    return undefined;
  }
  // A followed symlink may point into another layer.
  const within = (src: string): boolean => rels.some((rel) => src === rel || src.startsWith(`${rel}/`));
  if (!selection.every((e) => within(e.src))) return undefined;
  const owner = await plannedOwner(o);
  return planCopy({
    lowerdirs: o.lowerdirs,
    sourceRoot: layer!,
    selection,
    dest: o.dest,
    fromStage: true,
    ...(owner ? { owner } : {}),
    ...(o.chmod ? { chmod: parseInt(o.chmod, 8) } : {}),
    inode: (src) => {
      const e = index.entries.get(src)!;
      return `${e.dev}:${e.ino}`;
    },
  });
}

/** --chown for a planned copy: names are looked up in the stage's /etc/passwd and /etc/group. */
async function plannedOwner(o: CopyNodeOptions): Promise<Owner | undefined> {
  return o.chown ? resolveChown(await stageFiles(o.store, o.lowerdirs, USER_FILES), o.chown) : undefined;
}

/** Descend into a directory only if it lies on, or below, the literal (wildcard-free) part of a source. */
function alongPaths(sources: readonly string[]): (rel: string) => boolean {
  const prefixes = sources.map((source) => {
    const segs = posix.normalize(`/${source}`).split('/').filter(Boolean);
    const wild = segs.findIndex((seg) => /[*?[\\]/.test(seg));
    return (wild < 0 ? segs : segs.slice(0, wild)).join('/');
  });
  return (rel) => prefixes.some((p) => p === '' || p === rel || p.startsWith(`${rel}/`) || rel.startsWith(`${p}/`));
}

/**
 * WORKDIR creates its directory as BuildKit does (mkdir -p, 0755, owned by the current USER), which
 * is a layer when the directory was missing and nothing when it existed.
 */
export async function workdirNode(
  o: FileNodeBase & { path: string; user: string | undefined },
): Promise<LayerWrite | undefined> {
  const upperdir = await writeRootfs(o.store, o.lowerdirs, async (rootfs) => {
    const owner = o.user ? await resolveUser(filesAt(rootfs), o.user) : { uid: 0, gid: 0 };
    const parts = o.path.split('/').filter(Boolean);
    let at = '';
    for (const part of parts) {
      at = posix.join(at || '/', part);
      const host = secureJoin(rootfs, at);
      const st = await lstat(host).catch(() => undefined);
      if (st) continue;
      await mkdir(host, { mode: 0o755 });
      await chown(host, owner.uid, owner.gid);
    }
  });
  return commitUpperdir(o.store, upperdir, o.epoch, o.timings);
}
