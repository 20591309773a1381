import { callSite } from './loc.js';
import { defined } from './plain.js';
import type { SecretHandle, SecretSpec } from './types.js';

interface Described {
  description?: string;
}

/**
 * Secrets are read when a build needs them and mounted only into the RUN steps that name them;
 * their values never reach a layer, the image config, the cache, logs or an emitted file.
 */
export const secret = {
  /** The value of an environment variable. */
  env(name: string, options: Described = {}): SecretSpec {
    return { kind: 'secret', source: { from: 'env', name }, ...options };
  },
  /** A file: a path relative to the config file, or `{ env }` naming a variable that holds the path. */
  file(pathOrEnv: string | { env: string }, options: Described = {}): SecretSpec {
    const source =
      typeof pathOrEnv === 'string'
        ? ({ from: 'file', path: pathOrEnv } as const)
        : ({ from: 'file-env', name: pathOrEnv.env } as const);
    return { kind: 'secret', source, ...options };
  },
  /** The standard output of a command, run with the config's directory as working directory. */
  command(command: string, options: Described = {}): SecretSpec {
    return { kind: 'secret', source: { from: 'command', command }, ...options };
  },
};

/** The handle stage functions receive as `secrets.<id>`; lives here so mounts capture the user's call site. */
export function secretHandle(id: string): SecretHandle {
  return {
    id,
    at: (target = `/run/secrets/${id}`, options = {}) =>
      defined({ kind: 'mount', type: 'secret', id, target, ...options, loc: callSite() }),
    env: (name, options = {}) => defined({ kind: 'mount', type: 'secret', id, env: name, ...options, loc: callSite() }),
  };
}
