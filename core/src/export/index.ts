// Public API of the export leaf: deliver a built image (push to a registry, load into docker/podman,
// or write an --output: OCI layout, OCI archive, docker archive). See ARCHITECTURE.md, engine leaves.
export { ExportError, isExportError, type ExportErrorCode } from './errors.js';
export {
  pushImage,
  type PushImageOptions,
  type PushImageResult,
  type PushProgressEvent,
  type BlobPushState,
} from './push.js';
export {
  loadImage,
  resolveEngine,
  findBinary,
  DEFAULT_DOCKER,
  type LoadImageOptions,
  type LoadImageResult,
  type EngineName,
} from './load.js';
export { dockerArchiveStream, dockerArchiveChunks, type ArchiveStreamOptions } from './archive.js';
export { imageTags } from './tags.js';
export { parseOutput, writeOutput, type OutputSpec, type OutputResult, type WriteOutputOptions } from './output.js';
