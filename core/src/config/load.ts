import path from 'node:path';
import { DiagnosticError, error, isDiagnosticError, type Diagnostic } from '../diagnostics/index.js';
import type { AnyConfig, SourceLoc } from '../dsl/types.js';
import { evaluate } from './evaluate.js';
import { findConfig } from './find.js';
import { locateDefaultExport } from './locate.js';
import { frames, mappedStack } from './stack.js';

export interface LoadOptions {
  /** Directory a relative `target` is resolved against (default: the process's working directory). */
  cwd?: string;
}

export interface LoadedConfig {
  config: AnyConfig;
  /** The config file, absolute and symlink-free (the same string DSL call sites report). */
  file: string;
  /** The config's directory: image contexts and secret files are relative to it. */
  dir: string;
  /** Absolute paths of the config file and every local module it imported (not packages): what to watch. */
  dependencies: string[];
}

/**
 * Loads `images.config.ts` (or .mts, .js, .mjs) from a file or a directory. Every call evaluates
 * the files afresh, so a long-lived process (watch mode) sees edits. Problems are thrown as a
 * DiagnosticError: DD100 not found, DD101 failed to evaluate, DD102 not a config.
 */
export async function loadConfig(target: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const file = await findConfig(target, options.cwd);
  const result = evaluate(file);
  if (!result.ok) throw loadError(file, result.error, result.modules);
  return {
    config: configOf(file, result.exports),
    file,
    dir: path.dirname(file),
    dependencies: result.modules,
  };
}

function loadError(file: string, thrown: unknown, modules: readonly string[]): DiagnosticError {
  // A DSL helper may have reported problems itself; keep them (the class may be another copy's).
  if (isDiagnosticError(thrown)) return new DiagnosticError(thrown.diagnostics);
  const dir = path.dirname(file);
  const base = path.basename(file);
  const { summary, loc } = describeThrown(thrown, dir, modules);
  const at = loc ? ` (at ${path.relative(dir, loc.file) || base}:${loc.line})` : '';
  const notFound = (thrown as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND';
  return new DiagnosticError([
    error('DD101', `${base} failed to load: ${summary}${at}`, {
      ...(loc ? { loc } : {}),
      ...(notFound ? { hint: 'check the import path, or install the package it names' } : {}),
    }),
  ]);
}

function describeThrown(
  thrown: unknown,
  dir: string,
  modules: readonly string[],
): { summary: string; loc?: SourceLoc } {
  // esbuild's transform failure (a syntax error): the first message carries its own location.
  const first = (thrown as { errors?: EsbuildMessage[] } | null)?.errors?.[0];
  if (first?.text) {
    const l = first.location;
    const loc = l ? { file: path.resolve(dir, l.file), line: l.line, column: l.column + 1 } : undefined;
    return { summary: `syntax error: ${first.text}`, ...(loc ? { loc } : {}) };
  }
  if (!(thrown instanceof Error)) return { summary: `threw ${firstLine(String(thrown))}` };
  const summary = firstLine(`${thrown.name}: ${thrown.message}`);
  // The first frame in the config's own files is where the user can act.
  const loc = frames(mappedStack(thrown)).find((f) => modules.includes(f.file));
  return { summary, ...(loc ? { loc } : {}) };
}

interface EsbuildMessage {
  text: string;
  location?: { file: string; line: number; column: number } | null;
}

function configOf(file: string, exports: unknown): AnyConfig {
  const base = path.basename(file);
  const hint = 'end the file with `export default defineConfig({ images: { … } })`';
  // esbuild's CommonJS output marks ES modules with __esModule; a plain CommonJS config may set
  // module.exports to the config itself.
  const esm = isObject(exports) && (exports.__esModule === true || 'default' in exports);
  if (esm && exports.default === undefined) {
    throw new DiagnosticError([
      error('DD102', `${base} has no default export`, { hint, loc: { file, line: 1, column: 1 } }),
    ]);
  }
  const value = esm ? exports.default : exports;
  if (isObject(value) && isObject(value.images) && !Array.isArray(value.images)) {
    return value as unknown as AnyConfig;
  }
  const got = !isObject(value)
    ? kindOf(value)
    : 'images' in value
      ? `images as ${kindOf(value.images)}`
      : 'an object without `images`';
  const diagnostic: Diagnostic = error(
    'DD102',
    `the default export of ${base} is not a config: expected an object with \`images\`, got ${got}`,
    { hint, loc: locateDefaultExport(file) },
  );
  throw new DiagnosticError([diagnostic]);
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]!.trim();
}
