// A `docker load` archive as a stream: the same bytes writeDockerArchive writes to a file, so
// loadImage needs no temp file. Built from the OCI leaf's own archive pieces (layout entries, tar
// encoder, entry order); the tests check it equals writeDockerArchive's file byte for byte.
import { Readable } from 'node:stream';
import { sortEntries, type LayerEntry } from '../oci/entry.js';
import { digestHex } from '../oci/digest.js';
import { ociLayoutEntries, parseManifest } from '../oci/image-files.js';
import type { ImageSource, ImageTag } from '../oci/index.js';
import { tarChunks } from '../oci/tar-writer.js';

export interface ArchiveStreamOptions {
  tags?: readonly ImageTag[];
  /** mtime of every member (SOURCE_DATE_EPOCH); default 0, as writeDockerArchive. */
  epoch?: number;
  /**
   * Also carry the OCI layout (oci-layout, index.json) next to docker's manifest.json (default true,
   * as writeDockerArchive). False gives a plain docker archive, for loaders that would otherwise
   * take it for an OCI archive (podman).
   */
  ociLayout?: boolean;
}

/** manifest.json of a docker archive; keys in bytewise order, as the OCI leaf's canonical JSON writes it. */
function dockerManifestJson(image: ImageSource, tags: readonly ImageTag[]): Buffer {
  const manifest = parseManifest(image.manifest);
  return Buffer.from(
    JSON.stringify([
      {
        Config: `blobs/sha256/${digestHex(manifest.config.digest)}`,
        Layers: manifest.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
        // A RepoTag needs a repository name; a bare OCI ref ("v1") would be misread as "v1:latest".
        RepoTags: tags.flatMap((t) => (t.name ? [t.name] : [])),
      },
    ]),
  );
}

/** The docker archive of `image` as a tar stream; layer blobs are read (and verified) as it is consumed. */
export function dockerArchiveStream(image: ImageSource, options: ArchiveStreamOptions = {}): Readable {
  return Readable.from(dockerArchiveChunks(image, options), { objectMode: false });
}

/** The same bytes as dockerArchiveStream, as chunks: an error thrown here is the archive's own. */
export async function* dockerArchiveChunks(
  image: ImageSource,
  options: ArchiveStreamOptions = {},
): AsyncGenerator<Buffer> {
  const tags = options.tags ?? [];
  const epoch = options.epoch ?? 0;
  const withLayout = options.ociLayout ?? true;
  const json = dockerManifestJson(image, tags);
  const layout = ociLayoutEntries(image, tags).filter(
    (e) => withLayout || (e.path !== 'index.json' && e.path !== 'oci-layout'),
  );
  const entries: LayerEntry[] = [
    ...layout,
    {
      path: 'manifest.json',
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: json.length,
      content: () => Readable.from([json]),
    },
  ];
  yield* tarChunks(await sortEntries(entries), epoch);
}
