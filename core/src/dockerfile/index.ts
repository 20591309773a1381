// Emit: graph → Dockerfile, .dockerignore and docker-bake.json per image, and `emit --check`.
export { emitDockerfile, stageArgDeclarations, type EmitDockerfileOptions } from './dockerfile.js';
export { emitDockerignore } from './dockerignore.js';
export { emitBake, type EmitBakeOptions } from './bake.js';
export { emitFiles, writeEmitted, checkEmitted, BAKE_FILE, type EmitInput } from './files.js';
export { FEATURES, opFeatures, type FeatureId } from './features.js';
