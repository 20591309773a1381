// The RUN executor: one step under runc on an overlay of its parent layers.
export { runStep, assertAvailable, type ExecMount, type RunStepOptions } from './executor.js';
export { afterUnmounts, unmountsDone } from './overlay.js';
export { ExecCancelled, ExecError, ExecutorUnavailable } from './errors.js';
export { resolveUser, type ResolvedUser } from './user.js';
export { filesAt, secureJoin, type ImageFiles } from './paths.js';
export type { ProcessSpec } from './spec.js';
export { reapContainers, unmountStale, ownerIsDead } from './recover.js';
