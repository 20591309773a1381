import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'esbuild-register/dist/node';

/** What evaluating a config gave: its module exports, or what it threw. */
export type Evaluation =
  { ok: true; exports: unknown; modules: string[] } | { ok: false; error: unknown; modules: string[] };

type Resolve = (request: string, parent: { filename?: string | null } | undefined, ...rest: unknown[]) => string;
const loader = Module as unknown as { _resolveFilename: Resolve; _cache: Record<string, unknown> };

/**
 * The library's own names. A config outside any node_modules tree that has drydock (a global
 * install, a container image, a checkout with no npm install) still imports the drydock that is
 * loading it: `drydock` is exactly a re-export of this package's public entry.
 */
const OWN_PACKAGES = new Set(['drydock', '@drydock/core']);
const OWN_ENTRY = fileURLToPath(new URL('../index.js', import.meta.url));

function resolveOwn(resolve: (request: string) => string, request: string): string {
  try {
    return resolve(request);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    return OWN_ENTRY;
  }
}

/** TypeScript sources imported ESM-style, with the extension of the file they compile to. */
const TS_TWIN: Record<string, string> = { '.js': '.ts', '.jsx': '.tsx', '.mjs': '.mts', '.cjs': '.cts' };

/**
 * Evaluates a config file (absolute, real path) and the local modules it imports, synchronously.
 *
 * Local modules are the ones reached by a relative or absolute import from the config or another
 * local module, outside node_modules. Only they go through esbuild-register, always compiled to
 * CommonJS (with inline source maps, so stack frames point at the .ts lines). Packages imported by
 * name, `drydock` included, load natively, as the host loads them: a workspace-linked package has a
 * real path outside node_modules, which esbuild-register alone would compile into a CommonJS copy.
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
  // Installed after the resolver above, so its own hooks (tsconfig `paths`) run first and undo first.
  const hook = register({
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    // The local set decides alone, so a config that itself sits under node_modules still loads.
    hookIgnoreNodeModules: false,
    hookMatcher: (f) => local.has(f),
    // CommonJS has no import.meta. esbuild-register defines import.meta.url as its banner's
    // variable, but a `define` option replaces its own, so that entry is repeated here.
    define: {
      'import.meta.url': '__esbuild_register_import_meta_url__',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
  });
  delete loader._cache[file]; // loaded by someone else: evaluate it afresh all the same
  try {
    const exports: unknown = createRequire(file)(file);
    return { ok: true, exports, modules: [...local] };
  } catch (error) {
    return { ok: false, error, modules: [...local] };
  } finally {
    hook.unregister();
    loader._resolveFilename = original;
    for (const f of local) if (!before.has(f)) delete loader._cache[f];
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
