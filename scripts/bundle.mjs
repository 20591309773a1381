#!/usr/bin/env node
// Bundles what tsc emitted into one file per package, because a process that starts by loading
// ~120 ES modules one by one spends 50–70 ms in Node's module loader before doing anything: too
// much for a no-op build. tsc's per-file output stays beside the bundles for the type
// declarations and for anything that imports a file directly.
//   core/dist/bundle.cjs  the runtime of @drydock/core, with its pure-JS dependencies inlined;
//                         esbuild (a native binary, loaded only to compile a changed config) and
//                         typescript (loaded only to locate an error) stay external. CommonJS, so
//                         that the executable can compile it from a V8 code cache (src/boot.ts).
//   core/dist/bundle.js   the package's ES module entry: re-exports bundle.cjs, so that importers
//                         of either kind (a config's `require('drydock')`, an ESM preset) share
//                         the one instance the executable loaded.
//   core/dist/boot.cjs    @drydock/core/boot: the code-cache loader the executable requires.
//   core/dist/record-worker.js  the worker thread that checks contexts against their walk
//                         records; the core bundle starts it from beside itself.
//   core/dist/spawn-helper.js  the helper process that starts host tools for a watch session (host/spawn.ts).
//   core/dist/prepare.cjs  @drydock/core/prepare: starts that worker; the executable requires it
//                         first for a build, before it loads the CLI and the core bundle.
//   cli/dist/index.cjs    the drydock package for require(): core's bundle, as it is.
//   cli/dist/drydock.cjs  the executable's program (bin/drydock.cjs loads it through boot); CommonJS
//                         for the code cache; @drydock/core stays external so that it and a
//                         config's `import 'drydock'` get the very same instance; ts-morph and the
//                         presets stay external too: only `drydock init` loads them; undici too:
//                         only a TLS connection with deferred certificates loads it.
// Usage: node scripts/bundle.mjs (run by `npm run build`, after tsc).
/* global console, process, URL */
import { build } from 'esbuild';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const at = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies inlined into an ES module still call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __drydockRequire } from 'node:module'; const require = __drydockRequire(import.meta.url);",
  },
};

// CommonJS has no import.meta: its url is the bundle's own, made from __filename.
const commonjs = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  define: { 'import.meta.url': '__drydock_import_meta_url' },
  banner: { js: "const __drydock_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
};

/**
 * A bundle the executable runs as a script, from its code cache (core/src/boot.ts): Node 20 gives a
 * script no import(), so none may be left in it.
 */
async function script(options) {
  const { metafile } = await build({ ...commonjs, ...options, metafile: true });
  const dynamic = Object.values(metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.kind === 'dynamic-import' && i.external),
  );
  if (dynamic.length > 0) {
    throw new Error(`${options.outfile}: import() of ${dynamic.map((i) => i.path).join(', ')}: use require()`);
  }
}

try {
  await script({
    entryPoints: [at('core/dist/index.js')],
    outfile: at('core/dist/bundle.cjs'),
    external: ['esbuild', 'typescript'],
  });
  await writeFile(
    at('core/dist/bundle.js'),
    "// @drydock/core's ES module entry: the CommonJS bundle's exports (see scripts/bundle.mjs).\nexport * from './bundle.cjs';\n",
  );
  await build({
    ...commonjs,
    entryPoints: [at('core/dist/boot.js')],
    outfile: at('core/dist/boot.cjs'),
  });
  await build({
    ...common,
    entryPoints: [at('core/dist/context/record-worker.js')],
    outfile: at('core/dist/record-worker.js'),
  });
  await build({
    ...common,
    entryPoints: [at('core/dist/host/spawn-helper.js')],
    outfile: at('core/dist/spawn-helper.js'),
  });
  await build({
    ...commonjs,
    entryPoints: [at('core/dist/prepare.js')],
    outfile: at('core/dist/prepare.cjs'),
  });
  // The `drydock` package for CommonJS importers (a config's `require('drydock')`): core's instance.
  await writeFile(
    at('cli/dist/index.cjs'),
    "// The drydock package's CommonJS entry: @drydock/core's public API (see scripts/bundle.mjs).\nmodule.exports = require('@drydock/core');\n",
  );
  await script({
    entryPoints: [at('cli/dist/main.js')],
    outfile: at('cli/dist/drydock.cjs'),
    external: ['@drydock/core', '@drydock/preset-*', 'esbuild', 'typescript', 'ts-morph', 'undici'],
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
