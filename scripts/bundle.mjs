#!/usr/bin/env node
// Bundles what tsc emitted into one file per package, because a process that starts by loading
// ~120 ES modules one by one spends 50–70 ms in Node's module loader before doing anything: too
// much for a no-op build. tsc's per-file output stays beside the bundles for the type
// declarations and for anything that imports a file directly.
//   core/dist/bundle.js   the runtime entry of @drydock/core (package.json "exports"), with its
//                         pure-JS dependencies inlined; esbuild (a native binary, loaded only to
//                         compile a changed config) and typescript (loaded only to locate an
//                         error) stay external.
//   core/dist/record-worker.js  the worker thread that checks contexts against their walk
//                         records; the core bundle starts it from beside itself.
//   core/dist/spawn-helper.js  the helper process that starts host tools for a watch session (host/spawn.ts).
//   core/dist/prepare.bundle.js  @drydock/core/prepare: starts that worker; the executable imports it
//                         first for a build, before it loads the CLI and the core bundle.
//   cli/dist/drydock.js   the executable (bin/drydock.js imports it); @drydock/core stays external
//                         so that a config's `import 'drydock'` gets the very same instance;
//                         ts-morph and the presets stay external too: only `drydock init` loads them;
//                         undici too: only a TLS connection with deferred certificates loads it.
// Usage: node scripts/bundle.mjs (run by `npm run build`, after tsc).
/* global console, process, URL */
import { build } from 'esbuild';
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

try {
  await build({
    ...common,
    entryPoints: [at('core/dist/index.js')],
    outfile: at('core/dist/bundle.js'),
    external: ['esbuild', 'typescript'],
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
    ...common,
    entryPoints: [at('core/dist/prepare.js')],
    outfile: at('core/dist/prepare.bundle.js'),
  });
  await build({
    ...common,
    entryPoints: [at('cli/dist/main.js')],
    outfile: at('cli/dist/drydock.js'),
    external: ['@drydock/core', '@drydock/preset-*', 'esbuild', 'typescript', 'ts-morph', 'undici'],
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
