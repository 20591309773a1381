/**
 * What the python preset reads from a project: which installer its files call for, the files that
 * describe its dependencies, and the command that starts it. Read-only, through `ProjectFiles`.
 */
import type { PresetMatch, ProjectFiles } from '@drydock/core';
import type { PythonInstaller } from './options.js';

/** Files that make a directory a Python project, in the order `detect` names them. */
const MARKERS = ['pyproject.toml', 'requirements.txt', 'setup.py', 'setup.cfg', 'uv.lock', 'poetry.lock', 'Pipfile'];
/** Scripts that start an app, in the order they are tried. */
const ENTRY_FILES = ['main.py', 'app.py', 'server.py', 'run.py'];

export function detect(project: ProjectFiles): PresetMatch | undefined {
  const found = MARKERS.filter((f) => project.exists(f));
  if (found.length === 0) {
    const entry = ENTRY_FILES.find((f) => project.exists(f));
    return entry ? { reason: `${entry} (a Python script, standard library only)` } : undefined;
  }
  return { reason: `${found.join(', ')} (${installerFor(project)})` };
}

export function installerFor(project: ProjectFiles): PythonInstaller {
  if (project.exists('uv.lock')) return 'uv';
  if (project.exists('poetry.lock')) return 'poetry';
  return 'pip';
}

/** The requirement files pip reads (`requirements*.txt`, `constraints*.txt`, a `requirements/` dir). */
export function requirementFiles(project: ProjectFiles): string[] {
  const files = project.list().filter((f) => /^(requirements|constraints)[\w.-]*\.txt$/.test(f));
  if (project.exists('requirements/')) files.push('requirements/');
  return files;
}

/** Whether pyproject.toml (or setup.py) describes an installable package, not just settings for tools. */
export function isPackage(project: ProjectFiles): boolean {
  if (project.exists('setup.py') || project.exists('setup.cfg')) return true;
  const toml = project.readText('pyproject.toml');
  if (toml === undefined) return false;
  const tables = tablesOf(toml);
  if (tables.has('tool.poetry')) return !/^\s*package-mode\s*=\s*false\b/m.test(section(toml, 'tool.poetry'));
  return tables.has('build-system') && tables.has('project');
}

/**
 * The command the image runs when `start` is not given: a single console script of the project, a
 * well-known script name at the top (main.py, app.py, server.py, run.py), or a package with a
 * `__main__.py` (`python -m package`). Undefined when none of these exists.
 */
export function startCommand(project: ProjectFiles, installsProject: boolean): string[] | undefined {
  const toml = project.readText('pyproject.toml');
  if (toml !== undefined && installsProject) {
    const scripts = [...keysOf(section(toml, 'project.scripts')), ...keysOf(section(toml, 'tool.poetry.scripts'))];
    if (scripts.length === 1) return [scripts[0]!];
  }
  const entry = ENTRY_FILES.find((f) => project.exists(f));
  if (entry) return ['python', entry];
  const packages = project
    .list()
    .filter((d) => d.endsWith('/') && project.exists(`${d}__main__.py`))
    .map((d) => d.slice(0, -1));
  if (packages.length === 1) return ['python', '-m', packages[0]!];
  if (installsProject) {
    const inSrc = project
      .list('src')
      .filter((d) => d.endsWith('/') && project.exists(`src/${d}__main__.py`))
      .map((d) => d.slice(0, -1));
    if (inSrc.length === 1) return ['python', '-m', inSrc[0]!];
  }
  return undefined;
}

// A few lines of TOML reading, enough for table names and the keys of one table: no dependency
// for a full parser, since detection only needs to know what is there.

function tablesOf(toml: string): Set<string> {
  const names = new Set<string>();
  for (const m of toml.matchAll(/^\s*\[\s*([A-Za-z0-9_.\-" ]+?)\s*\]\s*(#.*)?$/gm)) {
    const name = m[1]!.replaceAll('"', '').replace(/\s*\.\s*/g, '.');
    const parts = name.split('.');
    for (let i = 1; i <= parts.length; i++) names.add(parts.slice(0, i).join('.'));
  }
  return names;
}

/** The body of `[name]`, up to the next table header. */
function section(toml: string, name: string): string {
  const lines = toml.split(/\r?\n/);
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$/.exec(line);
    if (header) {
      inside = header[1]!.replaceAll('"', '').replace(/\s*\.\s*/g, '.') === name;
      continue;
    }
    if (inside) out.push(line);
  }
  return out.join('\n');
}

function keysOf(body: string): string[] {
  return [...body.matchAll(/^\s*("([^"]+)"|([A-Za-z0-9_.-]+))\s*=/gm)].map((m) => m[2] ?? m[3]!);
}
