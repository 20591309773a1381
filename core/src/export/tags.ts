import type { ImageTag } from '../oci/index.js';
import { familiarReference, parseReference } from '../registry/index.js';
import { ExportError } from './errors.js';

/**
 * Image names (`app:1.0`, `127.0.0.1:5000/app`; no tag means `latest`) as ImageTags: `name` in the
 * short form docker prints and docker/podman accept as a RepoTag, `ref` the tag for OCI layouts.
 */
export function imageTags(names: readonly string[], what: string): ImageTag[] {
  return names.map((name) => {
    let ref;
    try {
      ref = parseReference(name);
    } catch (error) {
      throw new ExportError('ETAG', `${what}: ${(error as Error).message}`, { cause: error });
    }
    if (ref.digest !== undefined) {
      throw new ExportError('ETAG', `${what}: ${JSON.stringify(name)} is pinned by digest; a tag is needed here`);
    }
    return { ref: ref.tag ?? 'latest', name: familiarReference(ref) };
  });
}
