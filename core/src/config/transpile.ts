/**
 * Config modules compiled to CommonJS by esbuild, cached on disk by content. Starting esbuild's
 * service and compiling costs more than everything else a no-op build does before its first
 * cache lookup, and a config rarely changes between builds: an unchanged module costs one file
 * read. esbuild itself is loaded only on a miss.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Esbuild from 'esbuild';
import { resolveRoot, LAYOUT_VERSION } from '../store/paths.js';

const require = createRequire(import.meta.url);

/** Bumped whenever the compile options below change, so older entries are never read. */
const FORMAT = 'drydock-config-cjs-1';
const IMPORT_META_URL = '__drydock_import_meta_url__';

const LOADERS: Record<string, Esbuild.Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

/** The file extensions a config's local modules may have. */
export const MODULE_EXTENSIONS = Object.keys(LOADERS);

let esbuild: typeof Esbuild | undefined;
let esbuildVersion: string | undefined;

const cacheDir = (): string => path.join(resolveRoot(), LAYOUT_VERSION, 'config-js');

/**
 * CommonJS for a local module, with an inline source map (Node maps stack frames and DSL call
 * sites through it). `source` is the file's current text: the key covers it, the file name (the
 * map and `__filename` name it), esbuild's version and the options.
 */
export function transpile(file: string, source: string): string {
  esbuildVersion ??= (require('esbuild/package.json') as { version: string }).version;
  const key = createHash('sha256')
    .update(JSON.stringify([FORMAT, esbuildVersion, process.versions.node.split('.')[0], file, source]))
    .digest('hex');
  const cached = path.join(cacheDir(), `${key}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    // a miss (or an unreadable cache): compile
  }
  const code = compile(file, source);
  store(cached, code);
  return code;
}

function compile(file: string, source: string): string {
  esbuild ??= require('esbuild') as typeof Esbuild;
  return esbuild.transformSync(source, {
    sourcefile: file,
    loader: LOADERS[path.extname(file)] ?? 'ts',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    sourcemap: 'inline',
    // CommonJS has no import.meta.
    banner: `const ${IMPORT_META_URL} = require('url').pathToFileURL(__filename).href;`,
    define: {
      'import.meta.url': IMPORT_META_URL,
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
  }).code;
}

/**
 * Stops esbuild's service process, if a compile started it: it would otherwise stay for the rest of
 * the process (~11 MB), and a config is compiled once per load. The next compile starts it again.
 */
export function releaseTranspiler(): void {
  void esbuild?.stop();
}

/** Best effort: a cache that cannot be written (read-only home) only costs the next compile. */
function store(file: string, code: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  } catch {
    // ignored on purpose
  }
}
