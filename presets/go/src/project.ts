/**
 * What the go preset reads from a project: go.mod (module path, Go version), whether go.sum is
 * there, and which package is the program. Read-only, through `ProjectFiles`.
 */
import type { PresetMatch, ProjectFiles } from '@drydock/core';

export interface GoModule {
  /** The module path, e.g. `example.com/api`. */
  path: string;
  /** The `go` line's major.minor, e.g. `1.22`, if there is one. */
  go?: string;
}

export function detect(project: ProjectFiles): PresetMatch | undefined {
  const mod = readModule(project);
  if (!mod) return undefined;
  return { reason: `go.mod (module ${mod.path}${mod.go ? `, go ${mod.go}` : ''})` };
}

export function readModule(project: ProjectFiles): GoModule | undefined {
  const text = project.readText('go.mod');
  if (text === undefined) return undefined;
  const path = /^\s*module\s+"?([^\s"]+)"?/m.exec(text)?.[1];
  const go = /^\s*go\s+(\d+\.\d+)/m.exec(text)?.[1];
  return { path: path ?? 'app', ...(go ? { go } : {}) };
}

/** Whether a directory of the project holds a `package main` (its non-test .go files say so). */
function isMainPackage(project: ProjectFiles, dir: string): boolean {
  const prefix = dir === '.' ? '' : `${dir}/`;
  return project
    .list(dir)
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'))
    .some((f) => /^\s*package\s+main\b/m.test(stripComments(project.readText(prefix + f) ?? '')));
}

function stripComments(go: string): string {
  return go.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

/** The main package when the option is not given: `.`, or the only `./cmd/<name>` that is one. */
export function mainPackage(project: ProjectFiles): string | undefined {
  if (isMainPackage(project, '.')) return '.';
  const commands = project
    .list('cmd')
    .filter((d) => d.endsWith('/') && isMainPackage(project, `cmd/${d.slice(0, -1)}`))
    .map((d) => `./cmd/${d.slice(0, -1)}`);
  return commands.length === 1 ? commands[0] : undefined;
}

/** Candidates to name in an error when there is no single main package. */
export function commandDirs(project: ProjectFiles): string[] {
  return project
    .list('cmd')
    .filter((d) => d.endsWith('/'))
    .map((d) => `./cmd/${d.slice(0, -1)}`);
}

/** `go build`'s own choice of name: the package's last path element (a module's, without /vN). */
export function binaryName(main: string, module: GoModule): string {
  const elements = (main === '.' ? module.path : main).split('/').filter((e) => e !== '' && e !== '.');
  if (main === '.' && elements.length > 1 && /^v\d+$/.test(elements.at(-1)!)) elements.pop();
  const name = (elements.at(-1) ?? 'app').replace(/[^A-Za-z0-9._-]/g, '-');
  return /^[A-Za-z0-9]/.test(name) ? name : 'app';
}
