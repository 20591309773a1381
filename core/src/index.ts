// The public API of @drydock/core (re-exported by the `drydock` package). Nothing else is importable.
export * from './dsl/index.js';
export * from './preset/index.js';
export * from './diagnostics/index.js';
export type * from './graph/types.js';
export { GRAPH_VERSION } from './graph/types.js';
export { canonicalJson, digestOf } from './graph/hash.js';
export * from './compile/index.js';
export * from './config/index.js';
export { renderGraph, type GraphFormat } from './graph/render.js';
export { loadProject, type Project, type ProjectOptions } from './project.js';
export * from './dockerfile/index.js';
export * from './engine/index.js';
export * from './watch/index.js';
