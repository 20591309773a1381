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
 *
 * A cache holds the functions the run that wrote it compiled, and no others: one written by a
 * build that only pulled its bases lacks the code of COPY, RUN and layers, which every later build
 * then compiles from source (~6 ms of a rebuild, measured). So each cache names the kinds of work
 * its run did (noteCodeAreas), and a run that did another kind writes it again at exit, holding
 * both's functions. That happens once per kind and bundle version.
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

interface Loaded {
  script: vm.Script;
  dir: string;
  file: string;
  name: string;
  /** The kinds of work of the run that wrote the cache this bundle was compiled from; none: no usable cache. */
  areas: ReadonlySet<string> | undefined;
}

/** A cache file: this word, a tab and the areas (comma-separated) on one line, then V8's bytes. */
const MAGIC = 'drydock-code-cache';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The start of the names of a bundle's caches: its file name and a digest of its path. */
const cachePrefix = (file: string): string => `${basename(file)}-${sha256(file).slice(0, 12)}-`;

/** Bundles loaded by this process, each written by saveCodeCaches when its cache is missing or lacks an area. */
const loaded: Loaded[] = [];

/** The kinds of work this process did (noteCodeAreas). */
const areas = new Set<string>();

/**
 * Notes kinds of work this run did ('pull', 'step:RUN'…): a cache whose run did not do one of them
 * is written again when this process exits (see above). Names hold no ',' or line break.
 */
export function noteCodeAreas(...names: string[]): void {
  for (const name of names) areas.add(name.replace(/[,\n]/g, ' '));
}

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
  let cachedAreas: Set<string> | undefined;
  try {
    const stored = readFileSync(join(dir, name));
    const eol = stored.subarray(0, 1024).indexOf(10);
    const [magic, list] = stored.toString('latin1', 0, Math.max(eol, 0)).split('\t');
    if (magic === MAGIC && list !== undefined) {
      cachedData = stored.subarray(eol + 1);
      cachedAreas = new Set(list.trimEnd().split(',').filter(Boolean));
    }
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
  loaded.push({ script, dir, file, name, areas: script.cachedDataRejected ? undefined : cachedAreas });
  return module.exports;
}

/**
 * Writes, when the process exits, the caches of the bundles loaded without one (or with one whose
 * run did less than this one): made then, they hold every function the command compiled, which is
 * what the next run of it needs.
 */
export function keepCodeCaches(): void {
  process.once('exit', saveCodeCaches);
}

/** Writes the caches of the bundles loaded without one, or with one that lacks an area of this run, now. Best effort. */
export function saveCodeCaches(): void {
  for (const u of loaded) {
    if (u.areas && [...areas].every((a) => u.areas!.has(a))) continue;
    const all = new Set([...(u.areas ?? []), ...areas]);
    // Written or not, not tried again by this process.
    u.areas = all;
    try {
      mkdirSync(u.dir, { recursive: true });
      const tmp = join(u.dir, `${u.name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
      // Padded so that V8's bytes start 8-byte aligned in the file (as they are in a fresh buffer).
      const line = `${MAGIC}\t${[...all].sort().join(',')}`;
      const header = Buffer.from(line.padEnd(Math.ceil((line.length + 1) / 8) * 8 - 1) + '\n', 'latin1');
      writeFileSync(tmp, Buffer.concat([header, u.script.createCachedData()]));
      renameSync(tmp, join(u.dir, u.name));
      // The caches of earlier versions of the bundle at this path are of no more use, nor are the
      // temporary files of processes that died writing one.
      const prefix = cachePrefix(u.file);
      for (const old of readdirSync(u.dir)) {
        if (!old.startsWith(prefix) || old === u.name) continue;
        if (
          old.endsWith('.bin') ||
          (old.endsWith('.tmp') && !isAlive(Number(/\.(\d+)-[0-9a-f]+\.tmp$/.exec(old)?.[1])))
        ) {
          rmSync(join(u.dir, old), { force: true });
        }
      }
    } catch {
      // The next run compiles from the source, as without a cache.
    }
  }
}

/** Whether process `pid` exists (signal 0 checks without sending). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true; // not a name this file makes: left alone
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
