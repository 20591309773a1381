/**
 * `@drydock/core/boot`: loads drydock's CommonJS bundles (core/dist/bundle.cjs, the CLI's) through a
 * V8 code cache, for the executable. Node 20 has no compile cache of its own: every start parsed
 * and compiled the bundles, and every function again the first time a build called it (~20 ms of
 * a rebuild, measured). V8 can instead take back the bytecode an earlier run made.
 *
 * A bundle's cache lives in the store, which belongs to the user running drydock (bytecode is never
 * read from a place others can write), named by the bundle's path and content digest, Node's
 * version and the architecture. V8 itself rejects a cache made under other flags; it is then made
 * again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { resolveRoot, storePaths } from './store/paths.js';

/** core's own bundle, beside this file. */
export const CORE_BUNDLE = fileURLToPath(new URL('./bundle.cjs', import.meta.url));

/** Where the caches are kept: `<store>/v1/code-cache`. */
export const codeCacheDir = (env: NodeJS.ProcessEnv = process.env): string =>
  join(storePaths(resolveRoot(undefined, env)).base, 'code-cache');

interface Unsaved {
  script: vm.Script;
  dir: string;
  file: string;
  name: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The start of the names of a bundle's caches: its file name and a digest of its path. */
const cachePrefix = (file: string): string => `${basename(file)}-${sha256(file).slice(0, 12)}-`;

/** Bundles loaded without a usable cache: theirs is written by keepCodeCaches. */
const unsaved: Unsaved[] = [];

/**
 * Loads a CommonJS bundle as `require` would (it is `require.cache[file]` afterwards, so that every
 * later `require` and `import` of it gets this very instance), compiled from its code cache when
 * there is one. Returns its exports.
 */
export function loadBundle(file: string, dir: string = codeCacheDir()): unknown {
  const require = createRequire(file);
  const known = require.cache[file];
  if (known) return known.exports;
  const source = readFileSync(file, 'utf8');
  // The path is part of the name: V8's cached code carries the script's file name (stack frames
  // of a copy of the bundle elsewhere would name this one). A new version of the bundle at the
  // same path replaces the cache of the old one (saveCodeCaches).
  const name = `${cachePrefix(file)}${sha256(source).slice(0, 32)}-${process.version}-${process.arch}.bin`;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(join(dir, name));
  } catch {
    // None yet: compiled from the source, and kept if asked.
  }
  const script = new vm.Script(Module.wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = new Module(file);
  module.filename = file;
  require.cache[file] = module;
  try {
    (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, require, module, file, dirname(file));
  } catch (error) {
    delete require.cache[file];
    throw error;
  }
  module.loaded = true;
  if (cachedData === undefined || script.cachedDataRejected) unsaved.push({ script, dir, file, name });
  return module.exports;
}

/**
 * Writes, when the process exits, the caches of the bundles loaded without one: made then, they
 * hold every function the command compiled, which is what the next run of it needs.
 */
export function keepCodeCaches(): void {
  process.once('exit', saveCodeCaches);
}

/** Writes the caches of the bundles loaded without one, now. Best effort. */
export function saveCodeCaches(): void {
  for (const u of unsaved.splice(0)) {
    try {
      mkdirSync(u.dir, { recursive: true });
      const tmp = join(u.dir, `${u.name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
      writeFileSync(tmp, u.script.createCachedData());
      renameSync(tmp, join(u.dir, u.name));
      // The caches of earlier versions of the bundle at this path are of no more use.
      const prefix = cachePrefix(u.file);
      for (const old of readdirSync(u.dir)) {
        if (old.startsWith(prefix) && old.endsWith('.bin') && old !== u.name) rmSync(join(u.dir, old), { force: true });
      }
    } catch {
      // The next run compiles from the source, as without a cache.
    }
  }
}
