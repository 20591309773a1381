// Watch mode's public API: a warm process that rebuilds on save (see session.ts).
export { watchBuild, type WatchOptions, type LoadedProject } from './session.js';
export type { WatchEvent, CycleTimings } from './events.js';
