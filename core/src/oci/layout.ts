import { createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sortEntries } from './entry.js';
import { ociLayoutEntries, type ImageSource, type ImageTag } from './image-files.js';
import { tarChunks } from './tar-writer.js';

export interface OutputOptions {
  tags?: ImageTag[];
  /** mtime of every archive member, seconds (SOURCE_DATE_EPOCH); default 0. */
  epoch?: number;
}

/**
 * Writes an OCI image layout directory (created if missing). Blobs are content-addressed, so writing a
 * second image into the same dir only adds blobs; index.json is replaced with this image's tags.
 */
export async function writeOciLayout(dir: string, image: ImageSource, options: OutputOptions = {}): Promise<void> {
  for (const entry of ociLayoutEntries(image, options.tags ?? [])) {
    const abs = join(dir, entry.path);
    if (entry.type === 'dir') {
      await mkdir(abs, { recursive: true });
      continue;
    }
    // Temp + rename: a crash never leaves a truncated blob under its digest's name.
    const tmp = `${abs}.tmp-${process.pid}`;
    if (entry.size === 0) await writeFile(tmp, '');
    else await pipeline(entry.content!(), createWriteStream(tmp));
    await rename(tmp, abs);
  }
}

/** Writes the archive entries as an uncompressed tar file, reproducibly. */
export async function writeTarFile(
  file: string,
  entries: Parameters<typeof sortEntries>[0],
  epoch: number,
): Promise<void> {
  const sorted = await sortEntries(entries);
  const tmp = `${file}.tmp-${process.pid}`;
  await pipeline(Readable.from(tarChunks(sorted, epoch)), createWriteStream(tmp));
  await rename(tmp, file);
}

/** An OCI layout as a single tar (what `skopeo copy oci-archive:` and `podman load` read). */
export async function writeOciArchive(file: string, image: ImageSource, options: OutputOptions = {}): Promise<void> {
  await writeTarFile(file, ociLayoutEntries(image, options.tags ?? []), options.epoch ?? 0);
}
