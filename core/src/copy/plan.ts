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
import { lstatSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import type { SelectedEntry, Selection } from '../context/index.js';
import { comparePaths, hostFileContent, readXattrs, type LayerEntry } from '../oci/index.js';
import { sourceOf } from './apply.js';
import type { Owner } from './chown.js';

export interface PlanOptions {
  /** The stage's filesystem, merged (an overlay mount): looked at, never written. */
  rootfs: string;
  /** Its layer directories, top first: a path deleted in one of them cannot be created as new. */
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
  const existing: { rel: string; st: Stats }[] = [];
  let missingAt = destParts.length;
  for (let i = 0; i < destParts.length; i++) {
    const rel = destParts.slice(0, i + 1).join('/');
    const st = lstatSync(join(o.rootfs, rel), { throwIfNoEntry: false });
    if (st === undefined) {
      if (deletedBelow(o.lowerdirs, rel)) return undefined;
      missingAt = i;
      break;
    }
    if (!st.isDirectory()) return undefined;
    existing.push({ rel, st });
  }
  const singleFile = targets.length === 1 && targets[0]!.e.dest === '';
  if (singleFile && missingAt === destParts.length) return undefined; // the target exists: a file or a directory to go into
  if (missingAt === destParts.length) {
    // The destination exists: nothing the copy writes directly into it may exist yet.
    for (const name of new Set(targets.map((t) => t.path.split('/')[destParts.length]!))) {
      const rel = [...destParts, name].join('/');
      if (lstatSync(join(o.rootfs, rel), { throwIfNoEntry: false }) !== undefined) return undefined;
      if (deletedBelow(o.lowerdirs, rel)) return undefined;
    }
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
  for (const { e, path } of targets) {
    if (e.type === 'dir') {
      entries.push({ path, type: 'dir', mode: mode(e.mode), ...owner });
    } else if (e.type === 'symlink') {
      entries.push({ path, type: 'symlink', mode: 0o777, ...owner, linkname: e.linkTarget ?? '' });
    } else {
      const src = e.src === '' ? o.sourceRoot : join(o.sourceRoot, e.src);
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
    entries.push({
      path: first!.path,
      type: 'file',
      mode: mode(e.mode),
      ...owner,
      size: e.size,
      content: hostFileContent(src),
    });
    for (const other of others) {
      entries.push({ path: other.path, type: 'hardlink', mode: mode(e.mode), ...owner, linkname: first!.path });
    }
  }
  if (entries.length === 0) return [];
  // Overlayfs copies up every existing directory something was created in, metadata and all.
  const kept = singleFile ? existing.filter((e) => e.rel !== destParts.join('/')) : existing;
  const xattrs = await readXattrs(kept.map((e) => join(o.rootfs, e.rel)));
  for (const { rel, st } of kept) {
    const entry: LayerEntry = { path: rel, type: 'dir', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    const own = Object.entries(xattrs.get(join(o.rootfs, rel)) ?? {}).filter(
      ([name]) => !name.startsWith('trusted.overlay.'),
    );
    if (own.length > 0) entry.xattrs = Object.fromEntries(own);
    entries.push(entry);
  }
  return entries;
}

/** Whether any layer holds something at `rel` that the merged view does not show (a whiteout, or below one). */
function deletedBelow(lowerdirs: readonly string[], rel: string): boolean {
  return lowerdirs.some((dir) => {
    try {
      lstatSync(join(dir, rel));
      return true;
    } catch {
      return false;
    }
  });
}
