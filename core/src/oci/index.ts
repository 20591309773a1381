// Public API of drydock's OCI leaf: layers (write, read, from a directory or an overlay upperdir, apply as
// an overlay lowerdir), image config and manifest, and the outputs (OCI layout, OCI archive, docker archive).
export type { EntryType, LayerEntry } from './entry.js';
export { comparePaths } from './entry.js';
export { writeLayer, type WriteLayerOptions, type WrittenLayer } from './write-layer.js';
export type { MemberCache } from './members.js';
export { readTar, type TarEntry, type TarHeader } from './tar-reader.js';
export { TarParser, type TarHandlers } from './tar-parser.js';
export { hostFileContent, isHashedFile, type HostFileStat } from './tar-writer.js';
export { entriesFromDirectory, type FromDirectoryOptions } from './from-directory.js';
export { entriesFromUpperdir, WHITEOUT_PREFIX, OPAQUE_WHITEOUT } from './from-upperdir.js';
export {
  applyLayerAsLowerdir,
  applyLayerStreamAsLowerdir,
  lowerdirWriter,
  type LayerXattrs,
  type LowerdirWriter,
} from './apply.js';
export {
  contentXattrs,
  declareLayerXattrs,
  isLayerDeclared,
  layerXattrs,
  readLayerXattrs,
  readXattrs,
  writeXattrs,
} from './xattr.js';
export { lookupLowerdirs, type MergedEntry } from './lowerdir-view.js';
export {
  buildImageConfig,
  serializeImageConfig,
  epochToRfc3339,
  type ImageConfig,
  type ImageConfigSpec,
  type RuntimeConfig,
  type Healthcheck,
  type HistoryEntry,
} from './config.js';
export { buildManifest, serializeManifest, type Descriptor, type ImageManifest } from './manifest.js';
export { sha256 } from './digest.js';
export { MEDIA_TYPES, REF_NAME_ANNOTATION } from './media-types.js';
export type { ImageSource, ImageTag } from './image-files.js';
export { writeOciLayout, writeOciArchive, type OutputOptions } from './layout.js';
export { writeDockerArchive } from './docker-archive.js';
