/**
 * @drydock/preset-static: a static site served by a small Go file server on `scratch`, as uid
 * 65532, with content ETags and Cache-Control (see server.ts). Three stages: `server` compiles the
 * server (it does not depend on the site, so it is built once and cached), `build` runs the site's
 * build on `node:<version>-slim` when there is one (dependencies installed from the lockfile, with
 * the package manager's cache in a cache mount), and `runtime` holds the server and the files.
 */
import { cache, copy, definePreset, run, type Step } from '@drydock/core';
import { checks, type StaticOptions } from './options.js';
import { defaultBuild, detect, outputDir, packageJson, packageManager, siteDir } from './project.js';
import { writeSourceCommand } from './server.js';

export type { StaticCacheOptions, StaticOptions } from './options.js';
export { DEFAULT_IMMUTABLE, SERVER_SOURCE } from './server.js';

export type StaticStage = 'server' | 'build' | 'runtime';
export type StaticStep =
  | 'server-source'
  | 'server-compile'
  | 'rootfs'
  | 'build-packages'
  | 'manifests'
  | 'yarn-release'
  | 'install'
  | 'source'
  | 'build'
  | 'copy-rootfs'
  | 'copy-server'
  | 'copy-site';

/** The unprivileged user the server runs as: distroless's `nonroot`. */
export const UID = 65532;
/** The Go toolchain that compiles the server (any later one works too: override `server.from`). */
export const SERVER_GO = 'golang:1.19';
/** Where the site is served from in the image. */
export const SITE = '/site';

const SERVER_BIN = '/usr/local/bin/static-server';

export const staticSite = definePreset<StaticOptions, StaticStage, StaticStep>({
  name: 'static',
  package: '@drydock/preset-static',
  importName: 'staticSite',
  description: 'Static site (built or plain) served by a small non-root server with ETags and Cache-Control',
  stageNames: ['server', 'build', 'runtime'],
  target: 'runtime',
  stepNames: [
    'server-source',
    'server-compile',
    'rootfs',
    'build-packages',
    'manifests',
    'yarn-release',
    'install',
    'source',
    'build',
    'copy-rootfs',
    'copy-server',
    'copy-site',
  ],
  options: checks,
  ignore: ['.git', 'node_modules', 'dockerfiles', 'images.config.*', 'images.lock.json'],
  detect,
  stages(options, { project }) {
    const pkg = packageJson(project);
    const buildCommand = options.build === false ? undefined : (options.build ?? defaultBuild(project));
    const dir = (options.dir ?? (buildCommand ? (pkg ? outputDir(pkg) : 'dist') : siteDir(project)))?.replace(
      /\/+$/,
      '',
    );
    if (dir === undefined) {
      throw new Error(
        `preset static: no site in ${project.dir}: no index.html at the top or in public/, dist/, build/, site/, _site/, www/, out/, ` +
          `and no build script in package.json; set option "dir" (the folder to serve) or "build" (the command that makes it)`,
      );
    }
    const port = options.port ?? 8080;
    const pm = packageManager(project);
    const install = options.install ?? (pkg ? pm.install : undefined);
    const site = dir === '.' ? '' : `${dir}/`;
    const env: Record<string, string | number> = { PORT: port, STATIC_ROOT: SITE };
    if (options.spa) env.STATIC_SPA = 1;
    if (options.cache?.default) env.STATIC_CACHE = options.cache.default;
    if (options.cache?.immutable) env.STATIC_IMMUTABLE_CACHE = options.cache.immutable;
    // An ENV value is Dockerfile syntax: `$name` there would be a variable, not an anchor and a name.
    if (options.cache?.immutablePaths)
      env.STATIC_IMMUTABLE = options.cache.immutablePaths.replace(/\$(?=[A-Za-z_{])/g, '\\$');
    return {
      server: {
        from: SERVER_GO,
        workdir: '/src',
        env: { CGO_ENABLED: 0 },
        steps: {
          'server-source': run(writeSourceCommand('main.go')),
          'server-compile': run("go build -trimpath -ldflags='-s -w' -o /out/static-server main.go", {
            mounts: [cache('/root/.cache/go-build')],
          }),
          rootfs: run(
            [
              `mkdir -p /rootfs/etc /rootfs/tmp`,
              `chmod 1777 /rootfs/tmp`,
              `printf 'root:x:0:0:root:/root:/sbin/nologin\\nnonroot:x:${UID}:${UID}:nonroot:/:/sbin/nologin\\n' > /rootfs/etc/passwd`,
              `printf 'root:x:0:\\nnonroot:x:${UID}:\\n' > /rootfs/etc/group`,
            ].join(' && '),
          ),
        },
      },
      // Without a build this stage is not used (the runtime copies from the project) and not built.
      build: {
        from: `node:${options.version ?? '20'}-slim`,
        workdir: '/app',
        steps: {
          'build-packages': aptInstall(options.buildPackages),
          manifests: pkg ? copy(['package.json', ...pm.files], './') : undefined,
          // Its own COPY: several sources into ./ would land it at ./yarn-x.cjs, not where yarnPath says.
          'yarn-release': pkg && pm.release ? copy(pm.release, `./${pm.release}`) : undefined,
          install: install === undefined ? undefined : run(install, { mounts: [cache(pm.cache)] }),
          source: copy('.', './'),
          build: buildCommand === undefined ? undefined : run(buildCommand),
        },
      },
      runtime: {
        from: 'scratch',
        env,
        steps: {
          'copy-rootfs': copy('/rootfs/', '/', { from: 'server' }),
          'copy-server': copy('/out/static-server', SERVER_BIN, { from: 'server' }),
          'copy-site': buildCommand
            ? copy(`/app/${site}`, `${SITE}/`, { from: 'build' })
            : copy(site === '' ? '.' : site, `${SITE}/`),
        },
        user: `${UID}:${UID}`,
        expose: [port],
        entrypoint: [SERVER_BIN],
      },
    };
  },
});

function aptInstall(packages: readonly string[] | undefined): Step<never> | undefined {
  if (!packages?.length) return undefined;
  return run(
    `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')} && rm -rf /var/lib/apt/lists/*`,
  );
}
