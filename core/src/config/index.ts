// Loading images.config.ts, locating problems in its source, and checks only the host can answer.
export { CONFIG_NAMES, findConfig } from './find.js';
export { loadConfig, type LoadedConfig, type LoadOptions } from './load.js';
export { locate, withLocations } from './locate.js';
export { checkHost, type HostCheckInput } from './host.js';
