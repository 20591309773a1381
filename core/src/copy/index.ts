/**
 * COPY and ADD applied onto an image filesystem without a container, with the semantics of
 * BuildKit as docker 20.10 runs it (checked on a real build: test/copy/buildkit.test.ts). The
 * sources come from the context leaf's selection (which already decided globs, directory contents,
 * followed symlinks); this leaf decides where each entry lands, with which mode and owner, what it
 * replaces or merges into, and, for ADD, which archives are extracted.
 *
 *   const selection = selectSources(index, { sources: ['src', 'a.tar.gz'], dest: '/app/' });
 *   const owner = await resolveChown(rootfs, 'app:staff');
 *   await applyAdd({ rootfs, sourceRoot: contextDir, selection, dest: '/app/', owner });
 */
import { copySelection, type CopyOptions } from './apply.js';

export { resolveChown, type Owner } from './chown.js';
export { CopyError, type CopyErrorCode } from './errors.js';
export { applyAddUrl, downloadUrl, urlFileName, type AddUrlOptions } from './url.js';
export { isArchive } from './archive.js';
export { planCopy, type PlanOptions } from './plan.js';
export type { CopyOptions };

/** COPY: the selection onto `rootfs` at `dest`. */
export async function applyCopy(o: CopyOptions): Promise<void> {
  await copySelection(o, false);
}

/**
 * ADD of local sources: like applyCopy, but a file named by a source that is a tar archive (plain,
 * gzip, bzip2, xz; detected by content, not name) is extracted into `dest` (a directory, created
 * with `owner` if missing); its entries keep the archive's owners and modes (`owner` and `chmod`
 * do not apply to them, as in BuildKit). Files found below a copied directory are never extracted.
 */
export async function applyAdd(o: CopyOptions): Promise<void> {
  await copySelection(o, true);
}
