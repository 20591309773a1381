/**
 * The presets `drydock init` chooses from, how it loads them and how it asks each one whether it
 * fits a project. The presets decide that themselves (`detect`, through core's read-only
 * `projectFiles`); this file only orders their answers.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Preset, PresetMatch, ProjectFiles } from '@drydock/core';

export type AnyPreset = Preset<object, string, string>;

export interface PresetEntry {
  readonly name: string;
  readonly package: string;
  readonly importName: string;
}

/**
 * The official presets, in priority order: when several fit a project, the first one wins.
 *  - go and python first: go.mod, requirements.txt or pyproject.toml say what the program is
 *    written in, while a package.json beside them is usually front-end or tooling.
 *  - static before node: static claims only a package.json with a build script and no start
 *    script (a site to build and serve), which node would also take as an app with no server.
 *  - node last: it takes any package.json.
 */
export const PRESETS: readonly PresetEntry[] = [
  { name: 'go', package: '@drydock/preset-go', importName: 'go' },
  { name: 'python', package: '@drydock/preset-python', importName: 'python' },
  { name: 'static', package: '@drydock/preset-static', importName: 'staticSite' },
  { name: 'node', package: '@drydock/preset-node', importName: 'node' },
];

export const PRESET_NAMES = PRESETS.map((p) => p.name);

export interface LoadedPreset {
  readonly entry: PresetEntry;
  /** Undefined when its package is neither installed in the project nor next to drydock. */
  readonly preset: AnyPreset | undefined;
  /** Whether the project resolves the package itself (its config's import will work). */
  readonly installed: boolean;
  /** Why it could not be loaded: `not installed`, or what went wrong. */
  readonly problem?: string;
}

/**
 * The preset's package as the project resolves it (the version its config will run), else the
 * copy installed with drydock (its optional dependencies).
 */
const requireHere = createRequire(import.meta.url);

export async function loadPreset(entry: PresetEntry, dir: string): Promise<LoadedPreset> {
  const local = resolveFrom(dir, entry.package);
  let module: Record<string, unknown>;
  try {
    // require(), not import(): the executable runs this code as a script (core/src/boot.ts), where
    // Node 20 has no import(); presets are ES modules without top-level await, as configs need.
    module = requireHere(local ?? entry.package) as Record<string, unknown>;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND';
    return { entry, preset: undefined, installed: false, problem: missing ? 'not installed' : firstLine(err) };
  }
  const preset = Object.values(module).find((v): v is AnyPreset => isPreset(v) && v.name === entry.name);
  if (!preset) {
    return { entry, preset: undefined, installed: local !== undefined, problem: `exports no preset ${entry.name}` };
  }
  return { entry, preset, installed: local !== undefined };
}

/** Whether `dir` resolves `specifier` the way the config's imports will. */
export function resolveFrom(dir: string, specifier: string): string | undefined {
  try {
    return createRequire(join(dir, 'images.config.ts')).resolve(specifier);
  } catch {
    return undefined;
  }
}

function isPreset(v: unknown): v is AnyPreset {
  return typeof v === 'function' && (v as { kind?: unknown }).kind === 'preset';
}

export interface Detected {
  readonly loaded: LoadedPreset & { preset: AnyPreset };
  readonly match: PresetMatch;
}

export interface Detection {
  /** Every preset that fits, in priority order. */
  readonly matches: readonly Detected[];
  /** Presets whose detection threw (an unreadable package.json, …): one line each. */
  readonly errors: readonly string[];
}

/** Asks every loaded preset whether it fits the project. */
export function detect(presets: readonly LoadedPreset[], project: ProjectFiles): Detection {
  const matches: Detected[] = [];
  const errors: string[] = [];
  for (const loaded of presets) {
    const { preset } = loaded;
    if (!preset) continue;
    try {
      const match = preset.detect(project);
      if (match) matches.push({ loaded: { ...loaded, preset }, match });
    } catch (err) {
      errors.push(`preset ${preset.name}: ${firstLine(err)}`);
    }
  }
  return { matches, errors };
}

/**
 * Whether the preset can make an image of the project as it stands, with no options: undefined
 * when it can, else its one-line reason (a Go module with two commands needs `main`, …).
 */
export function tryStages(preset: AnyPreset, project: ProjectFiles): string | undefined {
  try {
    preset().stages({ project, args: {}, secrets: {} });
    return undefined;
  } catch (err) {
    return firstLine(err);
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.replace(/^DD\d{3}: /, '');
}
