export { defineConfig, image } from './define.js';
export { arg } from './args.js';
export { secret } from './secrets.js';
export { run, copy, add, env, workdir, user, shell } from './steps.js';
export { cache, bind, tmpfs, ssh } from './mounts.js';
export type * from './types.js';
