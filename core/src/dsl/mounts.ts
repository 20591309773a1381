import { callSite } from './loc.js';
import { defined } from './plain.js';
import type { BindMount, CacheMount, FromRef, SshMount, TmpfsMount } from './types.js';

type Opts<T> = Omit<T, 'kind' | 'type' | 'target' | 'loc'>;

/** A persistent cache directory for one RUN step (package manager caches, compiler caches). */
export function cache(target: string, options: Opts<CacheMount> = {}): CacheMount {
  return defined({ kind: 'mount', type: 'cache', target, ...options, loc: callSite() });
}

/** Bind files from the build context, or from a stage or image, into one RUN step. */
export function bind<const F extends string = never>(
  target: string,
  options: { from?: FromRef<F>; source?: string; readwrite?: boolean } = {},
): BindMount<NoInfer<F>> {
  return defined({ kind: 'mount', type: 'bind', target, ...options, loc: callSite() });
}

export function tmpfs(target: string, options: { size?: number } = {}): TmpfsMount {
  return defined({ kind: 'mount', type: 'tmpfs', target, ...options, loc: callSite() });
}

/** Forward the host's SSH agent into one RUN step. */
export function ssh(options: Omit<SshMount, 'kind' | 'type' | 'loc'> = {}): SshMount {
  return defined({ kind: 'mount', type: 'ssh', ...options, loc: callSite() });
}
