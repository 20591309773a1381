import { comparePaths, type LayerEntry } from './entry.js';
import { entriesFromDirectory } from './from-directory.js';

// overlayfs records a deletion as a 0:0 character device and a replaced directory as a directory with
// the xattr trusted.overlay.opaque=y; OCI layers say the same with `.wh.<name>` and `.wh..wh..opq`
// files (image-spec layer.md, "Whiteouts").

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
const OVERLAY_XATTR = 'trusted.overlay.';

/**
 * The layer entries of an overlay upperdir (the result of a RUN step), with overlay whiteouts turned
 * into OCI whiteouts. Other xattrs (e.g. security.capability set by setcap) are kept; overlay's own never
 * reach the layer.
 */
export async function entriesFromUpperdir(upperdir: string): Promise<LayerEntry[]> {
  const raw = await entriesFromDirectory(upperdir, { xattrs: true });
  const opaque = new Set<string>();
  const entries: LayerEntry[] = [];
  for (const entry of raw) {
    const attrs = entry.xattrs ?? {};
    if (entry.type === 'dir' && attrs[`${OVERLAY_XATTR}opaque`]?.toString() === 'y') opaque.add(entry.path);
    const kept = Object.entries(attrs).filter(([name]) => !name.startsWith(OVERLAY_XATTR));
    if (kept.length > 0) entry.xattrs = Object.fromEntries(kept);
    else delete entry.xattrs;
    if (entry.type === 'char' && entry.devmajor === 0 && entry.devminor === 0) {
      const slash = entry.path.lastIndexOf('/');
      entries.push({
        path: `${entry.path.slice(0, slash + 1)}${WHITEOUT_PREFIX}${entry.path.slice(slash + 1)}`,
        type: 'file',
        mode: entry.mode & 0o777,
        uid: entry.uid,
        gid: entry.gid,
        size: 0,
      });
      continue;
    }
    entries.push(entry);
  }
  for (const dir of opaque) {
    entries.push({ path: `${dir}/${OPAQUE_WHITEOUT}`, type: 'file', mode: 0, uid: 0, gid: 0, size: 0 });
  }
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}
