/**
 * What the node preset reads from a project: package.json, the lockfile, version files. Read-only,
 * through the context view drydock hands over, so each answer is testable with a fixture folder.
 */
import type { ProjectFiles } from '@drydock/core';

export interface PackageJson {
  name?: string;
  main?: string;
  packageManager?: string;
  scripts?: Record<string, string>;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export type ManagerName = 'npm' | 'pnpm' | 'yarn';

/** How to run one package manager in a build. */
export interface Manager {
  name: ManagerName;
  /** Yarn 2+ (berry), whose commands and cache differ from yarn 1's. */
  berry: boolean;
  /** The command that runs it: `npm`, `pnpm` (pinned by package.json), or `corepack pnpm@9`. */
  bin: string;
  /** The lockfile, if the project has one. */
  lockfile?: string;
  /** Files the install needs, present in the project, lockfile included. */
  manifests: string[];
  /** Why this manager: for `detect` and messages. */
  reason: string;
}

/** package.json, parsed and checked to be an object; undefined when there is none. */
export function readPackageJson(project: ProjectFiles): PackageJson | undefined {
  const pkg = project.readJson('package.json');
  if (pkg === undefined) return undefined;
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) {
    throw new Error(`preset node: package.json in ${project.dir} must hold a JSON object`);
  }
  return pkg as PackageJson;
}

const LOCKFILES: readonly [string, ManagerName][] = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/** The package manager: the option, else package.json's `packageManager`, else the lockfile, else npm. */
export function detectManager(project: ProjectFiles, pkg: PackageJson, option?: ManagerName): Manager {
  const field = pkg.packageManager;
  const fromField = typeof field === 'string' ? /^(npm|pnpm|yarn)@/.exec(field)?.[1] : undefined;
  if (typeof field === 'string' && !fromField) {
    throw new Error(
      `preset node: package.json field "packageManager" is "${field}"; supported: npm@…, pnpm@…, yarn@… (or set the packageManager option)`,
    );
  }
  const locks = LOCKFILES.filter(([file]) => project.exists(file));
  const fromLock = locks[0]?.[1];
  const name = option ?? (fromField as ManagerName | undefined) ?? fromLock ?? 'npm';
  const lockfile = locks.find(([, m]) => m === name)?.[0];
  const reason = option
    ? `${name} (the packageManager option)`
    : fromField
      ? `${name} (package.json packageManager ${field})`
      : lockfile
        ? `${name} (${lockfile})`
        : 'npm (no lockfile)';
  const berry = name === 'yarn' && isBerry(project, field);
  const manifests = ['package.json', ...(lockfile ? [lockfile] : [])];
  if (name === 'pnpm' && project.exists('pnpm-workspace.yaml')) manifests.push('pnpm-workspace.yaml');
  if (berry) {
    for (const f of ['.yarnrc.yml', '.yarn/releases', '.yarn/plugins', '.yarn/patches'])
      if (project.exists(f)) manifests.push(f);
    checkLinker(project);
  }
  return { name, berry, bin: binFor(name, berry, fromField === name, project, lockfile), lockfile, manifests, reason };
}

/** Yarn 2+: a packageManager field saying so, a .yarnrc.yml, or a yarn.lock with berry's header. */
function isBerry(project: ProjectFiles, field: string | undefined): boolean {
  if (typeof field === 'string' && field.startsWith('yarn@')) return !field.startsWith('yarn@1.');
  if (project.exists('.yarnrc.yml')) return true;
  return /^__metadata:/m.test(project.readText('yarn.lock') ?? '');
}

/** Plug'n'Play keeps no node_modules to copy into the runtime image; node-modules linking is required. */
function checkLinker(project: ProjectFiles): void {
  const rc = project.readText('.yarnrc.yml') ?? '';
  if (!/^nodeLinker:\s*["']?node-modules["']?\s*$/m.test(rc)) {
    throw new Error(
      `preset node: Yarn Plug'n'Play is not supported: set "nodeLinker: node-modules" in .yarnrc.yml (in ${project.dir})`,
    );
  }
}

/**
 * pnpm and yarn come from corepack. With a `packageManager` field corepack runs exactly that
 * version; without one the major is pinned from the lockfile, so an install never meets a
 * lockfile format its package manager does not read.
 */
function binFor(
  name: ManagerName,
  berry: boolean,
  pinned: boolean,
  project: ProjectFiles,
  lockfile: string | undefined,
): string {
  if (name === 'npm' || pinned) return name;
  if (name === 'yarn') return berry ? 'corepack yarn@stable' : 'corepack yarn@1.22.22';
  const lock = lockfile ? /^lockfileVersion:\s*['"]?(\d+)/m.exec(project.readText(lockfile) ?? '')?.[1] : undefined;
  const major = lock === '5' ? '7' : lock === '6' ? '8' : '9';
  return `corepack pnpm@${major}`;
}

/** Node codenames .nvmrc may name (`lts/iron`). */
const CODENAMES: Record<string, string> = { hydrogen: '18', iron: '20', jod: '22', krypton: '24' };

/** The Node.js version the project asks for, if it names one: .node-version, .nvmrc, engines.node. */
export function detectVersion(project: ProjectFiles, pkg: PackageJson): string | undefined {
  for (const file of ['.node-version', '.nvmrc']) {
    const text = project.readText(file)?.trim();
    if (!text) continue;
    const version = /^v?(\d+(?:\.\d+){0,2})$/.exec(text)?.[1];
    if (version) return version;
    const lts = /^lts\/(\*|[a-z]+)$/.exec(text)?.[1];
    if (lts) return lts === '*' ? 'lts' : CODENAMES[lts];
  }
  const range = pkg.engines?.node?.trim();
  // Only a range that names one major: "20", "20.x", "^20.11", "~20.11.1", ">=20 <21".
  const one = range && /^(?:[\^~]|>=)?\s*v?(\d+)(?:\.[\dx*]+){0,2}(?:\s*<\s*(\d+)(?:\.0){0,2})?$/.exec(range);
  if (!one) return undefined;
  if (range.startsWith('>=') && one[2] !== String(Number(one[1]) + 1)) return undefined;
  return one[1];
}

const PLAIN_WORDS = /^[A-Za-z0-9_./:@=,+-]+(?:\s+[A-Za-z0-9_./:@=,+-]+)*$/;

/** A command line as exec form when it is plain words (so node is PID 1 and gets signals), else as it is. */
export function asCommand(line: string): string | string[] {
  const trimmed = line.trim();
  return PLAIN_WORDS.test(trimmed) ? trimmed.split(/\s+/) : trimmed;
}

/** What the container runs when the user does not say. */
export function defaultStart(project: ProjectFiles, pkg: PackageJson, built: boolean): string | string[] {
  const script = pkg.scripts?.start?.trim();
  if (script) {
    const command = asCommand(script);
    return Array.isArray(command) && command[0] === 'node' ? command : ['npm', 'start'];
  }
  if (typeof pkg.main === 'string' && pkg.main !== '') return ['node', pkg.main];
  if (!built) {
    const file = ['server.js', 'index.js', 'app.js', 'main.js'].find((f) => project.exists(f));
    if (file) return ['node', file];
  }
  throw new Error(
    `preset node: no start command for ${project.dir}: set the start option, a "start" script or "main" in package.json`,
  );
}

export function hasAny(deps: Record<string, string> | undefined): boolean {
  return deps !== undefined && typeof deps === 'object' && Object.keys(deps).length > 0;
}
