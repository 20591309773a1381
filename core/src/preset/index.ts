// The preset contract (what preset packages build on) and the host's read-only view of a project.
export { definePreset } from './define.js';
export { projectFiles, type HostProjectFiles } from './files.js';
export type * from './types.js';
