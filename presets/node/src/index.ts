/**
 * @drydock/preset-node: a Node.js app as a small, non-root, well-cached production image.
 *
 *   deps       node:<v>-slim, the manifests, every dependency installed (cache mount)   only when building
 *   build      deps + the source, the build command, node_modules removed               only when building
 *   prod-deps  production dependencies only: pruned from deps, or installed directly
 *   runtime    node:<v>-slim, NODE_ENV=production, prod node_modules, the app, USER node, EXPOSE port
 */
import {
  cache,
  copy,
  definePreset,
  run,
  type CacheMount,
  type ImageRef,
  type Mount,
  type ProjectFiles,
  type Step,
} from '@drydock/core';
import { checks, type NodeOptions, type NodeStage } from './options.js';
import {
  asCommand,
  defaultStart,
  detectManager,
  detectVersion,
  hasAny,
  readPackageJson,
  type Manager,
} from './project.js';

export type { NodeOptions, NodeStage } from './options.js';
/**
 * The steps, in order: `system` (buildPackages), `corepack`, `manifests`, `install` (deps, or
 * prod-deps when nothing is built), `source`, `build`, `clean` (build), `prune` (prod-deps after a
 * build), `packages`, `modules` (prod node_modules), `app` (runtime).
 */
export type NodeStep =
  | 'system'
  | 'corepack'
  | 'manifests'
  | 'install'
  | 'source'
  | 'build'
  | 'clean'
  | 'prune'
  | 'packages'
  | 'modules'
  | 'app';

const DEFAULT_VERSION = '22';
const DEFAULT_PORT = 3000;

export const node = definePreset<NodeOptions, NodeStage, NodeStep>({
  name: 'node',
  package: '@drydock/preset-node',
  importName: 'node',
  description: 'Node.js apps: npm, pnpm or yarn from the lockfile, cached installs, pruned, non-root',
  stageNames: ['deps', 'build', 'prod-deps', 'runtime'],
  target: 'runtime',
  stepNames: [
    'system',
    'corepack',
    'manifests',
    'install',
    'source',
    'build',
    'clean',
    'prune',
    'packages',
    'modules',
    'app',
  ],
  options: checks,
  ignore: [
    '**/node_modules',
    '.git',
    '**/npm-debug.log*',
    '**/yarn-error.log',
    'images.config.*',
    'images.lock.json',
    'dockerfiles',
  ],

  detect(project) {
    if (!project.exists('package.json')) return undefined;
    const pkg = readPackageJson(project) ?? {};
    return { reason: `package.json, ${detectManager(project, pkg).reason}` };
  },

  stages(options, { project }) {
    const pkg = readPackageJson(project) ?? {};
    const pm = detectManager(project, pkg, options.packageManager);
    const version = options.version ?? detectVersion(project, pkg) ?? DEFAULT_VERSION;
    const buildBase: ImageRef = options.buildFrom ?? `node:${version}-slim`;
    const runtimeBase: ImageRef = options.from ?? `node:${version}-slim`;
    const workdir = options.workdir ?? '/app';

    const buildCommand =
      options.build === false ? undefined : (options.build ?? (pkg.scripts?.build ? `${pm.bin} run build` : undefined));
    // A build step the user supplies counts as building too.
    const building = buildCommand !== undefined || options.steps?.build != null;
    // An install step the user supplies counts as having dependencies.
    const prodDeps = hasAny(pkg.dependencies) || hasAny(pkg.optionalDependencies) || options.steps?.install != null;
    const anyDeps = prodDeps || hasAny(pkg.devDependencies);

    const mounts: Mount<NodeStage>[] = [...managerCaches(pm), ...(options.mounts ?? [])];
    const cmd = (command: string) => run(command, { mounts });
    const corepackEnv = pm.name === 'npm' ? undefined : { COREPACK_ENABLE_DOWNLOAD_PROMPT: 0 };
    const setup = {
      system: options.buildPackages?.length ? aptInstall(options.buildPackages) : undefined,
      corepack: pm.name === 'npm' ? undefined : run(`corepack enable ${pm.name}`),
      manifests: manifestSteps(pm.manifests, project),
    };

    const port = options.port === false ? undefined : (options.port ?? DEFAULT_PORT);
    const start = options.start ?? defaultStart(project, pkg, building);

    return {
      deps: {
        from: buildBase,
        workdir,
        ...(corepackEnv ? { env: corepackEnv } : {}),
        steps: { ...setup, install: anyDeps ? cmd(installAll(pm)) : undefined },
      },
      build: {
        from: 'deps',
        steps: {
          source: copy('.', './'),
          build: buildCommand ? cmd(buildCommand) : undefined,
          clean: run('rm -rf node_modules'),
        },
      },
      'prod-deps': building
        ? { from: 'deps', steps: { prune: prodDeps ? cmd(prune(pm)) : undefined } }
        : {
            from: buildBase,
            workdir,
            ...(corepackEnv ? { env: corepackEnv } : {}),
            steps: { ...setup, install: prodDeps ? cmd(installProduction(pm)) : undefined },
          },
      runtime: {
        from: runtimeBase,
        workdir,
        env: { NODE_ENV: 'production', ...(port === undefined ? {} : { PORT: port }), ...options.env },
        steps: {
          packages: options.packages?.length ? aptInstall(options.packages) : undefined,
          modules: prodDeps ? copy(`${workdir}/node_modules`, './node_modules', { from: 'prod-deps' }) : undefined,
          app: building ? copy(workdir, './', { from: 'build' }) : copy('.', './'),
        },
        user: options.user ?? 'node',
        ...(port === undefined ? {} : { expose: [port] }),
        cmd: typeof start === 'string' ? asCommand(start) : [...start],
      },
    };
  },
});

/** Download caches of the package manager (and of corepack, which fetches pnpm and yarn). */
function managerCaches(pm: Manager): CacheMount[] {
  const corepack = cache('/root/.cache/node/corepack');
  if (pm.name === 'npm') return [cache('/root/.npm')];
  if (pm.name === 'pnpm') return [cache('/root/.local/share/pnpm/store'), corepack];
  return [cache(pm.berry ? '/root/.yarn/berry/cache' : '/usr/local/share/.cache/yarn'), corepack];
}

function installAll(pm: Manager): string {
  switch (pm.name) {
    case 'npm':
      return `npm ${pm.lockfile ? 'ci' : 'install'} --no-audit --no-fund`;
    case 'pnpm':
      return `${pm.bin} install ${pm.lockfile ? '--frozen-lockfile' : '--no-frozen-lockfile'}`;
    case 'yarn':
      return pm.berry ? `${pm.bin} install --immutable` : `${pm.bin} install --frozen-lockfile`;
  }
}

function installProduction(pm: Manager): string {
  switch (pm.name) {
    case 'npm':
      return `npm ${pm.lockfile ? 'ci' : 'install'} --omit=dev --no-audit --no-fund`;
    case 'pnpm':
      return `${pm.bin} install --prod ${pm.lockfile ? '--frozen-lockfile' : '--no-frozen-lockfile'}`;
    case 'yarn':
      return pm.berry
        ? `${pm.bin} workspaces focus --all --production`
        : `${pm.bin} install --frozen-lockfile --production`;
  }
}

/** Dev dependencies out of an installed tree, without a download (the caches have everything). */
function prune(pm: Manager): string {
  switch (pm.name) {
    case 'npm':
      return 'npm prune --omit=dev --no-audit --no-fund';
    case 'pnpm':
      return `${pm.bin} prune --prod`;
    case 'yarn':
      return pm.berry
        ? `${pm.bin} workspaces focus --all --production`
        : `${pm.bin} install --frozen-lockfile --production --prefer-offline`;
  }
}

/** Files in one COPY; directories (yarn's releases, plugins) each in their own, to keep their path. */
function manifestSteps(manifests: readonly string[], project: ProjectFiles): Step<NodeStage>[] {
  const dirs = manifests.filter((m) => project.list(m).length > 0);
  const files = manifests.filter((m) => !dirs.includes(m));
  return [copy(files, './'), ...dirs.map((d) => copy(d, `./${d}`))];
}

function aptInstall(packages: readonly string[]): Step<NodeStage> {
  return run(
    [
      'apt-get update',
      `apt-get install -y --no-install-recommends ${[...packages].sort().join(' ')}`,
      'rm -rf /var/lib/apt/lists/*',
    ].join(' && '),
  );
}
