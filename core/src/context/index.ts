/**
 * Build context selection and hashing for the engine: which context files a COPY/ADD or a bind
 * mount of the context selects (Docker/BuildKit semantics, .dockerignore included), and their
 * content digests, with a persistent stat cache so a no-op build reads no file content.
 *
 *   const matcher = new Matcher(await ignorePatterns(contextDir, image));
 *   const index = await walkContext(contextDir, matcher);
 *   const selection = selectSources(index, { sources: ['src', '*.json'], dest: '/app/' });
 *   const { digest } = await digestSelection(contextDir, selection, await StatCache.load(file));
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageGraph } from '../graph/types.js';
import { parseDockerignore } from './dockerignore.js';
import { ContextError } from './errors.js';

export { Matcher, parseDockerignore, type IgnoreFlavor, type ParentMatches } from './dockerignore.js';
export { ContextChangedError, ContextError, type ContextErrorCode } from './errors.js';
export { globMatch, hasWildcards } from './glob.js';
export {
  walkContext,
  descendants,
  type ContextEntry,
  type ContextIndex,
  type EntryType,
  type WalkOptions,
} from './walk.js';
export { selectSources, selectBind, destIsDir, type CopySpec, type SelectedEntry, type Selection } from './select.js';
export { StatCache, type FileStat } from './stat-cache.js';
export { WalkRecord } from './walk-record.js';
export { digestSelection, type SelectionDigest } from './digest.js';
export { refreshPaths, isExcluded } from './refresh.js';
export { contextRelative } from './path.js';

/**
 * The ignore patterns an image's build applies: `<contextDir>/.dockerignore`, then the config's
 * `ignore` patterns, exactly what the emitted `<image>.Dockerfile.dockerignore` holds (see
 * core/src/dockerfile/dockerignore.ts), so drydock's own build and BuildKit's see the same context.
 */
export async function ignorePatterns(
  contextDir: string,
  image: Pick<ImageGraph, 'name' | 'ignore'>,
): Promise<string[]> {
  let text = '';
  try {
    // Read in one system call: a small file's four thread-pool round trips (open, stat, read, close)
    // each wait behind whatever holds the event loop at a build's start.
    text = readFileSync(join(contextDir, '.dockerignore'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  for (const pattern of image.ignore) {
    if (/[\r\n]/.test(pattern)) {
      throw new ContextError(
        'bad-pattern',
        `image "${image.name}": ignore pattern ${JSON.stringify(pattern)} contains a line break`,
        pattern,
      );
    }
  }
  // The emitter writes the file's lines (any \r or \r\n made a line break) and then each pattern
  // as a line: parse them as that one file.
  return parseDockerignore(text.replace(/\r\n?/g, '\n') + '\n' + image.ignore.join('\n'));
}
