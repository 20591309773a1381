/**
 * @drydock/preset-go: a Go program in three stages. `rootfs` gathers what a program needs from a
 * system (CA certificates, /etc/passwd with `nonroot`, a writable /tmp); `build` (`golang:<version>`)
 * downloads modules in their own step (module and build caches in cache mounts) and compiles a
 * static binary with `CGO_ENABLED=0`; `runtime` is `scratch` with both, distroless-style, running
 * as uid 65532.
 */
import { cache, copy, definePreset, run, type Step } from '@drydock/core';
import { checks, type GoOptions } from './options.js';
import { binaryName, commandDirs, detect, mainPackage, readModule } from './project.js';

export type { GoOptions } from './options.js';

export type GoStage = 'rootfs' | 'build' | 'runtime';
export type GoStep =
  'rootfs' | 'build-packages' | 'modules' | 'download' | 'source' | 'build' | 'compile' | 'copy-rootfs' | 'copy-binary';

/** The unprivileged user the program runs as: distroless's `nonroot`. */
export const UID = 65532;
/** Used when go.mod has no `go` line. */
export const DEFAULT_VERSION = '1.22';

const ROOTFS = '/rootfs';
const caches = () => [cache('/go/pkg/mod'), cache('/root/.cache/go-build')];

export const go = definePreset<GoOptions, GoStage, GoStep>({
  name: 'go',
  package: '@drydock/preset-go',
  importName: 'go',
  description: 'Go program: static CGO_ENABLED=0 binary on scratch with CA certificates, non-root',
  stageNames: ['rootfs', 'build', 'runtime'],
  target: 'runtime',
  stepNames: [
    'rootfs',
    'build-packages',
    'modules',
    'download',
    'source',
    'build',
    'compile',
    'copy-rootfs',
    'copy-binary',
  ],
  options: checks,
  // Tests and their data are not part of the program: editing them rebuilds nothing.
  ignore: ['.git', '**/*_test.go', '**/testdata', 'dockerfiles', 'images.config.*', 'images.lock.json'],
  detect,
  stages(options, { project }) {
    const module = readModule(project);
    if (!module) {
      throw new Error(`preset go: ${project.dir} has no go.mod; create one with "go mod init <module path>"`);
    }
    const main = options.main ?? mainPackage(project);
    if (main === undefined) {
      const dirs = commandDirs(project);
      throw new Error(
        `preset go: no single main package in ${project.dir} (${dirs.length ? `candidates: ${dirs.join(', ')}` : 'none at the top or under cmd/'}); ` +
          `set option "main" (e.g. main: './cmd/api')`,
      );
    }
    const version = options.version ?? module.go ?? DEFAULT_VERSION;
    const binary = options.binary ?? binaryName(main, module);
    const port = options.port ?? 8080;
    const tags = options.buildTags?.length ? ` -tags ${options.buildTags.join(',')}` : '';
    const ldflags = options.ldflags ?? '-s -w';
    const modules = ['go.mod', ...(project.exists('go.sum') ? ['go.sum'] : [])];
    return {
      // What the runtime needs besides the binary, in a stage of its own: no source edit touches it.
      rootfs: {
        from: `golang:${version}`,
        steps: {
          rootfs: run(
            [
              `mkdir -p ${ROOTFS}/etc/ssl/certs ${ROOTFS}/tmp ${ROOTFS}/home/nonroot`,
              `chmod 1777 ${ROOTFS}/tmp`,
              `chown ${UID}:${UID} ${ROOTFS}/home/nonroot`,
              `cp /etc/ssl/certs/ca-certificates.crt ${ROOTFS}/etc/ssl/certs/`,
              `printf 'root:x:0:0:root:/root:/sbin/nologin\\nnonroot:x:${UID}:${UID}:nonroot:/home/nonroot:/sbin/nologin\\n' > ${ROOTFS}/etc/passwd`,
              `printf 'root:x:0:\\nnonroot:x:${UID}:\\n' > ${ROOTFS}/etc/group`,
            ].join(' && '),
          ),
        },
      },
      build: {
        from: `golang:${version}`,
        workdir: '/src',
        env: { CGO_ENABLED: 0 },
        steps: {
          'build-packages': aptInstall(options.buildPackages),
          modules: copy(modules, './'),
          download: run('go mod download', { mounts: [cache('/go/pkg/mod')] }),
          source: copy('.', './'),
          build: options.build === undefined ? undefined : run(options.build, { mounts: caches() }),
          compile: run(`go build -trimpath -ldflags='${ldflags}'${tags} -o /out/${binary} ${main}`, {
            mounts: caches(),
          }),
        },
      },
      runtime: {
        from: 'scratch',
        env: { PORT: port },
        steps: {
          'copy-rootfs': copy(`${ROOTFS}/`, '/', { from: 'rootfs' }),
          'copy-binary': copy(`/out/${binary}`, `/usr/local/bin/${binary}`, { from: 'build' }),
        },
        user: `${UID}:${UID}`,
        expose: [port],
        entrypoint: [`/usr/local/bin/${binary}`],
        ...(options.args?.length ? { cmd: options.args } : {}),
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
