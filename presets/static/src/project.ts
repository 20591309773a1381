/**
 * What the static preset reads from a project: whether package.json builds a site (and with which
 * package manager and into which folder), or which folder holds a ready site. Read-only.
 */
import type { PresetMatch, ProjectFiles } from '@drydock/core';

/** Folders that hold a ready site, in the order they are tried. */
const SITE_DIRS = ['public', 'dist', 'build', 'site', '_site', 'www', 'out'];

interface PackageJson {
  scripts?: Record<string, unknown>;
  dependencies?: Record<string, unknown>;
  devDependencies?: Record<string, unknown>;
  packageManager?: unknown;
}

export function packageJson(project: ProjectFiles): PackageJson | undefined {
  const json = project.readJson('package.json');
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as PackageJson) : undefined;
}

/** A build script and no start script: package.json makes files to serve, not a server. */
function buildsSite(pkg: PackageJson | undefined): boolean {
  const scripts = pkg?.scripts ?? {};
  return typeof scripts.build === 'string' && scripts.start === undefined;
}

export function detect(project: ProjectFiles): PresetMatch | undefined {
  const pkg = packageJson(project);
  if (buildsSite(pkg)) {
    return {
      reason: `package.json with a build script and no start script (${packageManager(project).name}, into ${outputDir(pkg!)}/)`,
    };
  }
  if (pkg) return undefined; // a Node app: the node preset's
  const dir = siteDir(project);
  return dir === undefined ? undefined : { reason: `${dir === '.' ? '' : `${dir}/`}index.html (a ready static site)` };
}

/** The folder that holds a ready site, or undefined. */
export function siteDir(project: ProjectFiles): string | undefined {
  const dir = SITE_DIRS.find((d) => project.exists(`${d}/index.html`));
  return dir ?? (project.exists('index.html') ? '.' : undefined);
}

/** The build command package.json implies, if any. */
export function defaultBuild(project: ProjectFiles): string | undefined {
  const pkg = packageJson(project);
  return typeof pkg?.scripts?.build === 'string' ? `${packageManager(project).name} run build` : undefined;
}

/** Where the framework in package.json writes the site; `dist` (Vite, Astro, Parcel) otherwise. */
export function outputDir(pkg: PackageJson): string {
  const deps = { ...pkg.devDependencies, ...pkg.dependencies };
  if ('react-scripts' in deps || '@sveltejs/kit' in deps) return 'build';
  if ('gatsby' in deps) return 'public';
  if ('next' in deps) return 'out';
  if ('@11ty/eleventy' in deps) return '_site';
  return 'dist';
}

export interface PackageManager {
  name: 'npm' | 'pnpm' | 'yarn';
  /** The lockfiles to copy before installing. */
  files: string[];
  /** Yarn 2+: the release file .yarnrc.yml's `yarnPath` names, copied to the same path before installing. */
  release?: string;
  install: string;
  /** Where its download cache lives (a cache mount). */
  cache: string;
}

export function packageManager(project: ProjectFiles): PackageManager {
  const has = (f: string) => project.exists(f);
  // Not .npmrc: it may hold a token, and a copied file stays in a layer (use a secret mount).
  if (has('pnpm-lock.yaml')) {
    return {
      name: 'pnpm',
      files: ['pnpm-lock.yaml'],
      install: 'corepack enable && pnpm install --frozen-lockfile',
      cache: '/root/.local/share/pnpm/store',
    };
  }
  if (has('yarn.lock')) {
    const berry = has('.yarnrc.yml');
    const release = berry ? yarnPath(project) : undefined;
    return {
      name: 'yarn',
      files: ['yarn.lock', ...(berry ? ['.yarnrc.yml'] : [])],
      release,
      install: berry
        ? 'corepack enable && yarn install --immutable'
        : 'corepack enable && yarn install --frozen-lockfile',
      cache: berry ? '/root/.yarn/berry/cache' : '/usr/local/share/.cache/yarn',
    };
  }
  const lock = ['package-lock.json', 'npm-shrinkwrap.json'].filter(has);
  return {
    name: 'npm',
    files: lock,
    install: lock.length ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund',
    cache: '/root/.npm',
  };
}

/**
 * The Yarn release that .yarnrc.yml's `yarnPath` points at (e.g. `.yarn/releases/yarn-4.5.0.cjs`):
 * yarn runs that file, so the install step needs it. Only a relative path inside the project that
 * exists; anything else is left out (and yarn says what is missing).
 */
function yarnPath(project: ProjectFiles): string | undefined {
  const text = project.readText('.yarnrc.yml') ?? '';
  const m = /^yarnPath:[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s#]+))/m.exec(text);
  const raw = m?.[1] ?? m?.[2] ?? m?.[3];
  if (!raw) return undefined;
  const path = raw.replace(/^\.\//, '');
  if (path.startsWith('/') || path.split('/').includes('..')) return undefined;
  return project.exists(path) ? path : undefined;
}
