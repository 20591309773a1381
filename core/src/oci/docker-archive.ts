import { canonicalJson } from '../graph/hash.js';
import { digestHex } from './digest.js';
import { ociLayoutEntries, parseManifest, type ImageSource } from './image-files.js';
import { writeTarFile, type OutputOptions } from './layout.js';
import { Readable } from 'node:stream';

/**
 * A `docker load` tarball. It is an OCI layout plus docker's manifest.json pointing into blobs/ (the
 * shape `docker save` has written since docker 25), so one file serves both worlds. Docker 20.10's load
 * reads only manifest.json: Config and Layers are paths inside the archive, and layers may be gzipped
 * (load decompresses them and checks each diff_id against the config).
 */
export async function writeDockerArchive(file: string, image: ImageSource, options: OutputOptions = {}): Promise<void> {
  const tags = options.tags ?? [];
  const manifest = parseManifest(image.manifest);
  const dockerManifest = Buffer.from(
    canonicalJson([
      {
        Config: `blobs/sha256/${digestHex(manifest.config.digest)}`,
        // A RepoTag needs a repository name; a bare OCI ref ("v1") would be misread as "v1:latest".
        RepoTags: tags.flatMap((t) => (t.name ? [t.name] : [])),
        Layers: manifest.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
      },
    ]),
  );
  const entries = [
    ...ociLayoutEntries(image, tags),
    {
      path: 'manifest.json',
      type: 'file' as const,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: dockerManifest.length,
      content: () => Readable.from([dockerManifest]),
    },
  ];
  await writeTarFile(file, entries, options.epoch ?? 0);
}
