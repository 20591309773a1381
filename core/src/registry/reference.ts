// Image references with Docker's normalization (distribution/reference): `busybox` is
// docker.io/library/busybox:latest; the first path component is a registry only when it has a `.`
// or a `:` or is `localhost`.

import { RegistryError } from './errors.js';

export interface ImageReference {
  /** Registry host[:port] as written (`docker.io` for Docker Hub, never `index.docker.io`). */
  registry: string;
  /** Repository path, `library/`-prefixed for official Docker Hub images. */
  repository: string;
  /** Tag; `latest` when the reference has neither tag nor digest. */
  tag?: string;
  /** `algorithm:hex` when the reference pins a digest. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const DOMAIN =
  /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d+)?$/;

const invalid = (ref: string, why: string) =>
  new RegistryError('EREFERENCE', `invalid image reference ${JSON.stringify(ref)}: ${why}`);

/** Parse a reference the way `docker pull` does. Throws `RegistryError` `EREFERENCE`. */
export function parseReference(ref: string): ImageReference {
  if (ref === '' || ref.trim() !== ref) throw invalid(ref, 'empty or surrounded by whitespace');
  if (ref.length > 512) throw invalid(ref, 'longer than 512 characters');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, `malformed digest ${JSON.stringify(digest)}`);
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) {
      throw invalid(ref, 'a sha256 digest is 64 lowercase hex characters');
    }
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `malformed tag ${JSON.stringify(tag)}`);
  }
  if (rest === '') throw invalid(ref, 'missing repository name');
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0]!;
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))
  ) {
    if (!DOMAIN.test(first)) throw invalid(ref, `malformed registry ${JSON.stringify(first)}`);
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  for (const part of parts) {
    if (!COMPONENT.test(part)) {
      const why = /[A-Z]/.test(part)
        ? 'repository names must be lowercase'
        : `malformed path component ${JSON.stringify(part)}`;
      throw invalid(ref, why);
    }
  }
  let repository = parts.join('/');
  if (registry === DOCKER_HUB && parts.length === 1) repository = `library/${repository}`;
  if (registry.length + repository.length + 1 > 255) throw invalid(ref, 'name longer than 255 characters');
  const out: ImageReference = { registry, repository };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  if (tag === undefined && digest === undefined) out.tag = 'latest';
  return out;
}

/** The fully qualified form: `registry/repository[:tag][@digest]`. parseReference(formatReference(r)) equals r. */
export function formatReference(ref: ImageReference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints: `busybox:latest`, `ghcr.io/a/b:1`. */
export function familiarReference(ref: ImageReference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DOCKER_HUB) {
    name = ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}

/** The same repository, pinned to `digest` (the tag is kept for readability). */
export const withDigest = (ref: ImageReference, digest: string): ImageReference => ({ ...ref, digest });

/** What the registry API addresses: the digest if pinned, else the tag. */
export const manifestTarget = (ref: ImageReference): string => ref.digest ?? ref.tag ?? 'latest';
