// Manifest media types, parsing, and platform selection in indexes / manifest lists.

import { RegistryError } from './errors.js';

export const MediaType = {
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** The Accept header for manifest requests: indexes and single-platform manifests, OCI and Docker. */
export const MANIFEST_ACCEPT = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
  MediaType.OciManifest,
  MediaType.DockerManifest,
].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export const isIndexMediaType = (m: string): boolean => m === MediaType.OciIndex || m === MediaType.DockerManifestList;
export const isManifestMediaType = (m: string): boolean =>
  m === MediaType.OciManifest || m === MediaType.DockerManifest;

/**
 * Parse manifest bytes; the media type comes from the document's `mediaType` field, else the
 * Content-Type, else its shape. Throws `EMANIFEST` for schema1 and anything else unknown.
 */
export function parseManifest(
  bytes: Buffer,
  contentType: string | null | undefined,
  where: string,
): { mediaType: string; manifest: ImageManifest | ImageIndex } {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new RegistryError('EMANIFEST', `${where}: manifest is not JSON`);
  }
  const header = contentType?.split(';')[0]?.trim();
  let mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : header;
  if (mediaType === undefined || mediaType === 'application/json' || mediaType === '') {
    mediaType = Array.isArray(doc.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  }
  if (doc.schemaVersion !== 2) {
    throw new RegistryError(
      'EMANIFEST',
      `${where}: schemaVersion ${String(doc.schemaVersion)} manifests are not supported (only schema 2 / OCI)`,
    );
  }
  if (isIndexMediaType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw new RegistryError('EMANIFEST', `${where}: index has no manifests array`);
    return { mediaType, manifest: doc as unknown as ImageIndex };
  }
  if (isManifestMediaType(mediaType)) {
    if (typeof doc.config !== 'object' || doc.config === null || !Array.isArray(doc.layers)) {
      throw new RegistryError('EMANIFEST', `${where}: manifest lacks config or layers`);
    }
    return { mediaType, manifest: doc as unknown as ImageManifest };
  }
  throw new RegistryError('EMANIFEST', `${where}: unsupported manifest media type ${mediaType}`);
}

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** linux/<this machine's architecture in OCI names>, with arm's variant. */
export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  if (architecture === 'arm') {
    const v = (process.config.variables as { arm_version?: string }).arm_version;
    return { os: 'linux', architecture, variant: `v${v ?? '7'}` };
  }
  return { os: 'linux', architecture };
}

const defaultVariant = (arch: string): string | undefined =>
  arch === 'arm64' ? 'v8' : arch === 'arm' ? 'v7' : undefined;

export const formatPlatform = (p: Platform): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

/** Parse `linux/arm64/v8` style strings. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture)
    throw new RegistryError('EPLATFORM', `invalid platform ${JSON.stringify(s)} (want os/arch[/variant])`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * The index entry for `platform`: os and architecture must match; a requested variant must match
 * (arm64's v8 and arm's v7 are the defaults when a side omits it); without one an exact default match
 * wins. Throws `EPLATFORM` listing what the index has.
 */
export function selectPlatform(index: ImageIndex, platform: Platform, where: string): Descriptor {
  const candidates = index.manifests.filter(
    (d) =>
      d.platform !== undefined &&
      d.platform.os === platform.os &&
      d.platform.architecture === platform.architecture &&
      isManifestMediaType(d.mediaType ?? MediaType.OciManifest),
  );
  const want = platform.variant ?? defaultVariant(platform.architecture);
  const variantOf = (d: Descriptor) => d.platform?.variant ?? defaultVariant(d.platform!.architecture);
  const exact = candidates.find((d) => variantOf(d) === want);
  const found = exact ?? (platform.variant === undefined ? candidates[0] : undefined);
  if (found) return found;
  const available = index.manifests
    .filter((d) => d.platform && d.platform.architecture !== 'unknown')
    .map((d) => formatPlatform(d.platform!));
  throw new RegistryError(
    'EPLATFORM',
    `${where}: no manifest for ${formatPlatform(platform)} (available: ${available.length ? [...new Set(available)].join(', ') : 'none'})`,
  );
}
