// Pull-through mirrors: `DRYDOCK_REGISTRY_MIRRORS=docker.io=http://127.0.0.1:5000,ghcr.io=https://m.example`
// (several per registry allowed, tried in the order given, then the upstream registry). A mirror is
// addressed like the upstream (`/v2/library/busybox/...` for Docker Hub), as dockerd does.

import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

/** Registry (as in `ImageReference.registry`) → mirror base URLs, in order. */
export type MirrorMap = Record<string, string[]>;

const canonicalRegistry = (r: string): string =>
  r === 'index.docker.io' || r === 'registry-1.docker.io' ? DOCKER_HUB : r;

function normalizeMirrorUrl(url: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RegistryError(
      'EMIRROR',
      `${source}: mirror ${JSON.stringify(url)} is not a URL (want http(s)://host[:port])`,
    );
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RegistryError('EMIRROR', `${source}: mirror ${JSON.stringify(url)} must be http:// or https://`);
  }
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Parse the DRYDOCK_REGISTRY_MIRRORS syntax. Throws `EMIRROR` naming the bad entry. */
export function parseMirrors(spec: string, source = 'DRYDOCK_REGISTRY_MIRRORS'): MirrorMap {
  const out: MirrorMap = {};
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new RegistryError('EMIRROR', `${source}: entry ${JSON.stringify(entry)} is not registry=url`);
    const registry = canonicalRegistry(entry.slice(0, eq).trim());
    (out[registry] ??= []).push(normalizeMirrorUrl(entry.slice(eq + 1).trim(), source));
  }
  return out;
}

/** Merge mirror maps: earlier maps' mirrors come first; duplicates are dropped. */
export function mergeMirrors(...maps: (MirrorMap | undefined)[]): MirrorMap {
  const out: MirrorMap = {};
  for (const map of maps) {
    for (const [registry, urls] of Object.entries(map ?? {})) {
      const key = canonicalRegistry(registry);
      const list = (out[key] ??= []);
      for (const url of urls) {
        const u = normalizeMirrorUrl(url, `mirrors[${JSON.stringify(registry)}]`);
        if (!list.includes(u)) list.push(u);
      }
    }
  }
  return out;
}
