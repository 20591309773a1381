// The engine's public API: build a compiled project with drydock's own engine (see ARCHITECTURE.md).
export {
  build,
  openSession,
  prepareBuild,
  BuildError,
  DEFAULT_EPOCH,
  type BuildOptions,
  type BuildResult,
  type BuildSession,
  type BuildTimings,
  type BuiltImage,
} from './build.js';
export type { BuildEvent, StepEvent, OutputEvent, PullEvent, StepState } from './events.js';
export { pruneStore, type PruneStoreOptions, type PruneStoreResult } from './prune.js';
