import type { ProjectFiles } from '../dsl/types.js';

/** A context with nothing in it: what compile() gives stage functions when no host is attached. */
export function emptyProject(dir = '.'): ProjectFiles {
  return { dir, exists: () => false, readText: () => undefined, readJson: () => undefined, list: () => [] };
}
