import { resolve } from 'node:path';
import { compile } from './compile/index.js';
import { loadConfig, withLocations } from './config/index.js';
import { DiagnosticError } from './diagnostics/index.js';
import type { AnyConfig } from './dsl/types.js';
import type { Graph } from './graph/types.js';
import { projectFiles, type HostProjectFiles } from './preset/files.js';

export interface ProjectOptions {
  /** Directory relative paths are read from (the CLI passes process.cwd()). */
  cwd: string;
  /** Config file or directory holding one (default: `cwd`). */
  config?: string;
  /** Raw `--arg NAME=VALUE` values. */
  args?: Readonly<Record<string, string>>;
  /**
   * Whether every arg needs a value (default true). Emitting, printing and listing do not: a
   * required arg without one stays a bare `ARG NAME`, to be given with `--build-arg`.
   */
  requireArgValues?: boolean;
}

/** A loaded, compiled config: what every command starts from. */
export interface Project {
  /** Absolute path of the config file. */
  file: string;
  /** Its directory: contexts and secret files are relative to it. */
  dir: string;
  /**
   * The config file, every local module it imports, and every context path a stage function or
   * preset looked at (a lockfile, package.json, even one that is absent): what watch mode watches.
   */
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
  const views: HostProjectFiles[] = [];
  const compiled = compile(loaded.config, {
    args: options.args ?? {},
    project: (context) => {
      const view = projectFiles(resolve(loaded.dir, context));
      views.push(view);
      return view;
    },
  });
  const diagnostics =
    options.requireArgValues === false ? compiled.diagnostics.filter((d) => d.code !== 'DD132') : compiled.diagnostics;
  const graph = compiled.graph;
  if (diagnostics.some((d) => d.severity === 'error')) {
    throw new DiagnosticError(await withLocations(diagnostics, loaded.file));
  }
  const inspected = views.flatMap((v) => [...v.touched]).filter((f) => !loaded.dependencies.includes(f));
  return { ...loaded, dependencies: [...loaded.dependencies, ...new Set(inspected)], graph };
}
