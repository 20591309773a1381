import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { MODULE_EXTENSIONS, releaseTranspiler, transpile } from './transpile.js';

/** What evaluating a config gave: its module exports, or what it threw. */
export type Evaluation =
  { ok: true; exports: unknown; modules: string[] } | { ok: false; error: unknown; modules: string[] };

type Resolve = (request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;
interface CjsModule {
  _compile(code: string, filename: string): unknown;
}
type Extension = (module: CjsModule, filename: string) => void;
const loader = Module as unknown as {
  _resolveFilename: Resolve;
  _cache: Record<string, unknown>;
  _extensions: Record<string, Extension | undefined>;
};

/**
 * The library's own names. A config outside any node_modules tree that has drydock (a global
 * install, a container image, a checkout with no npm install) still imports the drydock that is
 * loading it: `drydock` is exactly a re-export of this package's public entry.
 */
const OWN_PACKAGES = new Set(['drydock', '@drydock/core']);
// Resolved through this package's own name (its "exports"), whether this code runs from the bundle or from tsc's files.
const ownEntry = (): string => createRequire(import.meta.url).resolve('@drydock/core');

function resolveOwn(resolve: (request: string) => string, request: string): string {
  try {
    return resolve(request);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    return ownEntry();
  }
}

/** TypeScript sources imported ESM-style, with the extension of the file they compile to. */
const TS_TWIN: Record<string, string> = { '.js': '.ts', '.jsx': '.tsx', '.mjs': '.mts', '.cjs': '.cts' };

/**
 * Evaluates a config file (absolute, real path) and the local modules it imports, synchronously.
 *
 * Local modules are the ones reached by a relative or absolute import from the config or another
 * local module, outside node_modules. Only they go through esbuild (transpile.ts), always compiled to
 * CommonJS (with inline source maps, so stack frames point at the .ts lines). Packages imported by
 * name, `drydock` included, load natively, as the host loads them: a workspace-linked package has a
 * real path outside node_modules, which a hook matching on paths alone would compile into a CommonJS copy.
 *
 * CommonJS keeps loads repeatable (the ESM loader's cache cannot be cleared): the local modules are
 * removed from `require.cache` once evaluated, so the next call reads the files again.
 */
export function evaluate(file: string): Evaluation {
  const local = new Set<string>([file]);
  const before = new Set(Object.keys(loader._cache));
  const original = loader._resolveFilename;
  loader._resolveFilename = function (this: unknown, request, parent, ...rest) {
    const resolve = (r: string) => original.call(this, r, parent, ...rest);
    if (OWN_PACKAGES.has(request)) return resolveOwn(resolve, request);
    if (!isPath(request) || !parent?.filename || !local.has(parent.filename)) return resolve(request);
    const resolved = resolveWithTwin(resolve, request);
    if (!/[\\/]node_modules[\\/]/.test(resolved)) local.add(resolved);
    return resolved;
  };
  // Local modules compile through esbuild (cached, see transpile.ts); anything else loads as before.
  const extensions = new Map(MODULE_EXTENSIONS.map((ext) => [ext, loader._extensions[ext]]));
  for (const [ext, original] of extensions) {
    loader._extensions[ext] = (module, filename) => {
      if (local.has(filename)) module._compile(transpile(filename, readFileSync(filename, 'utf8')), filename);
      else (original ?? loader._extensions['.js']!)(module, filename);
    };
  }
  // Stack frames and DSL call sites are read through the inline source maps of the compiled modules.
  process.setSourceMapsEnabled(true);
  delete loader._cache[file]; // loaded by someone else: evaluate it afresh all the same
  try {
    const exports: unknown = createRequire(file)(file);
    return { ok: true, exports, modules: [...local] };
  } catch (error) {
    return { ok: false, error, modules: [...local] };
  } finally {
    for (const [ext, original] of extensions) {
      if (original) loader._extensions[ext] = original;
      else delete loader._extensions[ext];
    }
    loader._resolveFilename = original;
    for (const f of local) if (!before.has(f)) delete loader._cache[f];
    releaseTranspiler();
  }
}

function isPath(request: string): boolean {
  return /^\.\.?(?:[\\/]|$)/.test(request) || path.isAbsolute(request);
}

/** `./helper.js` finds `helper.ts` when there is no `helper.js`, as TypeScript's NodeNext does. */
function resolveWithTwin(resolve: (request: string) => string, request: string): string {
  try {
    return resolve(request);
  } catch (err) {
    const ext = path.extname(request);
    const twin = TS_TWIN[ext];
    if (!twin || (err as { code?: unknown }).code !== 'MODULE_NOT_FOUND') throw err;
    try {
      return resolve(request.slice(0, -ext.length) + twin);
    } catch {
      throw err;
    }
  }
}
