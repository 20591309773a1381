/**
 * COPY from the context as layer entries, without writing the files anywhere first. Copying
 * thousands of files into an overlay mount only to read them back for the layer tar costs more
 * than everything else in the step; when the destination holds nothing the copy would merge
 * with, replace or follow, what copySelection (apply.ts) would write is known in advance:
 * - the destination's existing ancestors, copied up by overlayfs with their mode, owner and
 *   xattrs as they are;
 * - its missing ancestors and the destination directory, 0755, owned by --chown's owner (else 0:0);
 * - every selected entry below it: mode (with --chmod on files and directories), that owner,
 *   symlinks as symlinks, files hardlinked within one source as hardlinks.
 * Anything else (an existing path where the copy writes, a symlink on the destination path, a
 * name some lower layer deleted, two sources writing one path) returns undefined: the caller
 * applies the copy for real. test/copy/plan.test.ts holds the two paths to the same bytes.
 */
import { lstatSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { SelectedEntry, Selection } from '../context/index.js';
import {
  comparePaths,
  hostFileContent,
  lookupLowerdirs,
  contentXattrs,
  readLayerXattrs,
  type HostFileStat,
  type LayerEntry,
  type MergedEntry,
} from '../oci/index.js';
import { sourceOf } from './apply.js';
import type { Owner } from './chown.js';

export interface PlanOptions {
  /** The stage's layer directories, top first: looked up as overlay would merge them, never mounted. */
  lowerdirs: readonly string[];
  /** The build context. */
  sourceRoot: string;
  selection: Selection;
  /** Absolute, trailing slash kept as written. */
  dest: string;
  owner?: Owner;
  chmod?: number;
  /** `dev:ino` of a context file (by its `src`), to find hardlinked ones. */
  inode: (src: string) => string;
  /** What a source file was when its selection was hashed (by its `src`): the copy fails if it is no longer that. */
  hashed?: (src: string) => HostFileStat | undefined;
  /**
   * The sources are a layer of another stage, not the context: without --chown each entry keeps its
   * source's owner, and its xattrs (overlay's own left out), as copySelection does.
   */
  fromStage?: boolean;
}

const ROOT: Owner = { uid: 0, gid: 0 };

/** The layer entries of the COPY, or undefined when it must be applied for real. */
export async function planCopy(o: PlanOptions): Promise<LayerEntry[] | undefined> {
  if (o.selection.length === 0) return [];
  const owner = o.owner ?? ROOT;
  const destPath = posix.normalize('/' + o.dest).replace(/(.)\/+$/, '$1');
  const destParts = destPath.split('/').filter(Boolean);

  // Where each entry lands, relative to the image root.
  const targets: { e: SelectedEntry; path: string }[] = [];
  let destIsCreated = false;
  for (const e of o.selection) {
    if (e.dest !== '') targets.push({ e, path: [...destParts, e.dest].join('/') });
    else if (e.type === 'dir') destIsCreated = true;
    else targets.push({ e, path: destParts.join('/') }); // one file onto the destination itself
  }
  if (targets.length === 0 && !destIsCreated) return [];
  const paths = new Set<string>();
  for (const t of targets) {
    if (t.path === '' || paths.has(t.path)) return undefined; // two sources, one path
    paths.add(t.path);
  }

  // The destination path: existing components must be real directories, and everything from the
  // first missing one down is new (unless some layer deleted it: overlayfs would mark it opaque).
  // Looked up along with the names the copy writes directly into the destination.
  const prefixes = destParts.map((_, i) => destParts.slice(0, i + 1).join('/'));
  const destRel = destParts.join('/');
  const names = [
    ...new Set(targets.filter((t) => t.path !== destRel).map((t) => t.path.split('/')[destParts.length]!)),
  ].map((name) => [...destParts, name].join('/'));
  const srcOf = (e: SelectedEntry): string => (e.src === '' ? o.sourceRoot : join(o.sourceRoot, e.src));
  // From a stage: each entry keeps its source's owner (without --chown) and xattrs, read beside the lookup.
  const reading = o.fromStage
    ? readLayerXattrs(targets.map((t) => ({ path: srcOf(t.e), stat: lstatSync(srcOf(t.e)) })))
    : undefined;
  reading?.catch(() => {}); // awaited below, unless the plan is given up first
  const merged = await lookupLowerdirs(o.lowerdirs, [...prefixes, ...names]);
  if (!merged) return undefined; // a symlink on the way: the real copy follows it
  const existing: { rel: string; entry: MergedEntry }[] = [];
  let missingAt = destParts.length;
  for (const [i, rel] of prefixes.entries()) {
    const entry = merged.get(rel);
    if (entry === 'deleted') return undefined;
    if (!entry) {
      missingAt = i;
      break;
    }
    if (!entry.stat.isDirectory()) return undefined;
    existing.push({ rel, entry });
  }
  const singleFile = targets.length === 1 && targets[0]!.e.dest === '';
  if (singleFile && missingAt === destParts.length) return undefined; // the target exists: a file or a directory to go into
  if (missingAt === destParts.length) {
    // The destination exists: nothing the copy writes directly into it may exist yet (nor have been deleted).
    if (targets.some((t) => t.path === destRel) || names.some((rel) => merged.get(rel) !== null)) return undefined;
  }

  const entries: LayerEntry[] = [];
  const created = singleFile ? destParts.length - 1 : destParts.length;
  for (let i = missingAt; i < created; i++) {
    entries.push({ path: destParts.slice(0, i + 1).join('/'), type: 'dir', mode: 0o755, ...owner });
  }
  const mode = (m: number): number => (o.chmod === undefined ? m : (m & ~0o777) | (o.chmod & 0o777));
  // Files hardlinked to each other within one source stay linked; as when the layer is read from
  // a directory, the first path in layer order holds the content and the others link to it.
  const groups = new Map<string, { path: string; e: SelectedEntry; src: string }[]>();
  const stageXattrs = await reading;
  const metaOf = (src: string): Pick<LayerEntry, 'uid' | 'gid' | 'xattrs'> => {
    if (!o.fromStage) return owner;
    const st = lstatSync(src);
    const xattrs = contentXattrs(stageXattrs?.get(src));
    return {
      ...(o.owner ?? { uid: st.uid, gid: st.gid }),
      ...(Object.keys(xattrs).length > 0 ? { xattrs } : {}),
    };
  };
  for (const { e, path } of targets) {
    const src = srcOf(e);
    if (e.type === 'dir') {
      entries.push({ path, type: 'dir', mode: mode(e.mode), ...metaOf(src) });
    } else if (e.type === 'symlink') {
      entries.push({ path, type: 'symlink', mode: 0o777, ...metaOf(src), linkname: e.linkTarget ?? '' });
    } else {
      const key = `${sourceOf(e, src)}\0${o.inode(e.src)}`;
      const group = groups.get(key);
      if (group) group.push({ path, e, src });
      else groups.set(key, [{ path, e, src }]);
    }
  }
  for (const group of groups.values()) {
    group.sort((a, b) => comparePaths(a.path, b.path));
    const [first, ...others] = group;
    const { e, src } = first!;
    const meta = metaOf(src);
    entries.push({
      path: first!.path,
      type: 'file',
      mode: mode(e.mode),
      ...meta,
      size: e.size,
      content: hostFileContent(src, o.hashed?.(e.src)),
    });
    for (const other of others) {
      entries.push({ path: other.path, type: 'hardlink', mode: mode(e.mode), ...meta, linkname: first!.path });
    }
  }
  if (entries.length === 0) return [];
  // Overlayfs copies up every existing directory something was created in, metadata and all.
  const kept = singleFile ? existing.filter((e) => e.rel !== destParts.join('/')) : existing;
  for (const { rel, entry: dir } of kept) {
    const st = dir.stat;
    const entry: LayerEntry = { path: rel, type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (Object.keys(dir.xattrs).length > 0) entry.xattrs = dir.xattrs;
    entries.push(entry);
  }
  return entries;
}
