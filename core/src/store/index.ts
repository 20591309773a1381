// Public API of the local store (core/src/index.ts re-exports it).
export { Store, type StoreOptions } from './store.js';
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export type { BlobInfo, BlobSource } from './blobs.js';
export type { StoreRecord, StoreWarning } from './records.js';
export type { PruneOptions, PruneResult, Usage } from './prune.js';
export { resolveRoot, LAYOUT_VERSION } from './paths.js';
