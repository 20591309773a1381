import { resolve } from 'node:path';
import { compile } from './compile/index.js';
import { loadConfig, withLocations } from './config/index.js';
import { DiagnosticError } from './diagnostics/index.js';
import type { AnyConfig } from './dsl/types.js';
import type { Graph } from './graph/types.js';

export interface ProjectOptions {
  /** Directory relative paths are read from (the CLI passes process.cwd()). */
  cwd: string;
  /** Config file or directory holding one (default: `cwd`). */
  config?: string;
  /** Raw `--arg NAME=VALUE` values. */
  args?: Readonly<Record<string, string>>;
}

/** A loaded, compiled config: what every command starts from. */
export interface Project {
  /** Absolute path of the config file. */
  file: string;
  /** Its directory: contexts and secret files are relative to it. */
  dir: string;
  /** The config file and every local module it imports (what watch mode watches). */
  dependencies: string[];
  config: AnyConfig;
  graph: Graph;
}

/**
 * Loads and compiles a config. Throws `DiagnosticError` carrying every problem found, each
 * located in the config source where possible.
 */
export async function loadProject(options: ProjectOptions): Promise<Project> {
  const loaded = await loadConfig(resolve(options.cwd, options.config ?? '.'), { cwd: options.cwd });
  const { graph, diagnostics } = compile(loaded.config, { args: options.args ?? {} });
  if (diagnostics.some((d) => d.severity === 'error')) {
    throw new DiagnosticError(await withLocations(diagnostics, loaded.file));
  }
  return { ...loaded, graph };
}
