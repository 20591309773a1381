/**
 * drydock's own images (dogfooding).
 *
 * - `drydock`: the CLI, packed with `npm pack` from this workspace and installed into node:20-slim.
 * - `bench-busybox`, `bench-debian`, `bench-node`: the test bench's base images (test/env/setup.sh
 *   makes them today with umoci and skopeo, without a Docker engine), written as drydock images.
 *
 * What cannot be expressed (yet), and how the images below get around it:
 * - The root of the chain. `debian` comes from `debootstrap --variant=minbase`, which must run as
 *   root on the host (mknod, chroot) before any base image exists to run it in. `bench-debian` therefore
 *   starts from the rootfs tarball setup.sh caches and only slims it. (Its `rootfs` stage runs in
 *   busybox, which is made from debian's busybox-static: whichever image comes first needs the host.)
 * - Files from outside the repository. A context is a directory relative to this file (absolute
 *   contexts are an error, DD122), so the inputs setup.sh takes from the host are staged first:
 *     b=test/.tmp/bench; n=$(readlink -f "$(command -v node)"); g=$(npm root -g)
 *     mkdir -p $b/debian $b/node/bin $b/node/include $b/node/lib/node_modules
 *     cp /var/cache/drydock-test/debian-bookworm-minbase-amd64.tar $b/debian/
 *     cp "$n" $b/node/bin/node && cp -a "$(dirname "$(dirname "$n")")/include/node" $b/node/include/
 *     cp -a "$g/npm" "$g/corepack" $b/node/lib/node_modules/
 * - Values the image config needs that are computed at build time: setup.sh reads the node version
 *   off the binary; here it is an arg defaulting to the version of the node evaluating this file,
 *   which on the bench machine is that same binary.
 * - Host-dependent fixes: setup.sh copies in shared libraries the rootfs lacks (none on Debian
 *   bookworm) and this machine's apt sources; here the apt mirror is the DEBIAN_MIRROR arg.
 * - History entries (`created_by`) differ from setup.sh's umoci ones; the filesystems and configs match.
 */
import { add, arg, bind, cache, copy, defineConfig, run, secret, workdir } from 'drydock';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Shell steps joined into one RUN line. */
const sh = (...lines: string[]) => lines.join(' && ');

/** The preset packages, packed and installed with the CLI (drydock init offers them). */
const PRESETS = ['node', 'python', 'go', 'static'];

export default defineConfig({
  args: {
    DRYDOCK_NODE: arg.enum(['20', '22'], { default: '20', description: 'node major version of the drydock image' }),
    ARCH: arg.enum(['amd64', 'arm64'], { default: 'amd64', description: 'Debian architecture of the bench rootfs' }),
    DEBIAN_MIRROR: arg.string({
      default: 'http://deb.debian.org/debian',
      pattern: /^https?:\/\/[A-Za-z0-9.:/_-]+$/,
      description: 'apt mirror written into bench-debian',
    }),
    NODE_FULL_VERSION: arg.string({
      default: process.versions.node,
      pattern: /^[0-9]+\.[0-9]+\.[0-9]+$/,
      description: 'version of the node binary bench-node copies in (NODE_VERSION in the image)',
    }),
  },
  secrets: {
    // Optional registry settings for `npm ci` (credentials, or the CA of a TLS-intercepting proxy).
    npmrc: secret.file({ env: 'NPMRC_PATH' }, { description: '.npmrc for npm inside the build' }),
  },
  images: {
    drydock: {
      description: 'the drydock CLI (npm-packed from this workspace) on node:20-slim',
      context: '.',
      ignore: [
        '*',
        '!package.json',
        '!package-lock.json',
        '!tsconfig.base.json',
        '!core',
        '!cli',
        '!presets',
        '!scripts',
        '**/dist',
        '**/node_modules',
        '**/*.tsbuildinfo',
      ],
      tags: ['drydock:dev'],
      target: 'runtime',
      stages: ({ args, secrets }) => {
        const npm = [secrets.npmrc.at('/root/.npmrc', { required: false }), cache('/root/.npm')];
        return {
          pack: {
            from: `node:${args.DRYDOCK_NODE}`,
            workdir: '/src',
            steps: [
              copy(['package.json', 'package-lock.json', 'tsconfig.base.json'], './'),
              copy('core/package.json', './core/'),
              copy('cli/package.json', './cli/'),
              ...PRESETS.map((p) => copy(`presets/${p}/package.json`, `./presets/${p}/`)),
              // No scripts: the root `prepare` would build before the sources are here. `npm install`,
              // not `npm ci`: the committed lockfile lacks rollup's optional per-platform packages,
              // which `npm ci` (npm 11) rejects as out of sync.
              run('npm install --ignore-scripts --no-audit --no-fund', { mounts: npm }),
              copy('core', './core'),
              copy('cli', './cli'),
              copy('presets', './presets'),
              copy('scripts', './scripts'),
              run(
                sh(
                  'npm run build',
                  'mkdir /pack',
                  `npm pack --workspace core --workspace cli ${PRESETS.map((p) => `--workspace presets/${p}`).join(' ')} --pack-destination /pack`,
                ),
              ),
            ],
          },
          runtime: {
            from: `node:${args.DRYDOCK_NODE}-slim`,
            workdir: '/opt/drydock',
            // A mounted project's `import … from 'drydock'` resolves to this install.
            env: { NODE_PATH: '/opt/drydock/node_modules' },
            steps: [
              run(
                sh(
                  'npm install --omit=dev --no-audit --no-fund /pack/drydock-core-*.tgz /pack/drydock-[0-9]*.tgz /pack/drydock-preset-*.tgz',
                  'ln -s /opt/drydock/node_modules/.bin/drydock /usr/local/bin/drydock',
                  'drydock --version',
                ),
                { mounts: [bind('/pack', { from: 'pack', source: '/pack' }), ...npm] },
              ),
              // Mount a project at /work: `docker run --rm -v "$PWD:/work" drydock:dev emit -o /work/out`.
              workdir('/work'),
            ],
            user: 'node',
            labels: {
              'org.opencontainers.image.title': 'drydock',
              'org.opencontainers.image.description': 'build-as-code for container images',
              'org.opencontainers.image.licenses': 'Apache-2.0',
            },
            entrypoint: ['drydock'],
            cmd: ['--help'],
          },
        };
      },
    },

    'bench-busybox': {
      description: "test bench busybox (busybox:1.35, busybox:latest): Debian's busybox-static with its applets",
      ignore: ['*'], // nothing comes from the context
      tags: ['127.0.0.1:5000/library/busybox:1.35', '127.0.0.1:5000/library/busybox:latest'],
      target: 'busybox',
      stages: {
        rootfs: {
          from: 'debian:bookworm-slim',
          steps: [
            run(
              sh(
                'apt-get update -qq',
                'apt-get install -y -qq --no-install-recommends busybox-static',
                'rm -rf /var/lib/apt/lists/*',
              ),
              { mounts: [cache('/var/cache/apt', { sharing: 'locked' })] },
            ),
            run(
              sh(
                'r=/rootfs',
                'mkdir -p $r/bin $r/sbin $r/usr/bin $r/usr/sbin $r/etc $r/root $r/home $r/var $r/tmp',
                'chmod 1777 $r/tmp',
                'chmod 0700 $r/root',
                'install -m 0755 /bin/busybox $r/bin/busybox',
                'for a in $(/bin/busybox --list-full); do [ -e $r/$a ] || ln -s /bin/busybox $r/$a; done',
                "printf '%s\\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/home:/bin/false > $r/etc/passwd",
                "printf '%s\\n' root:x:0: nobody:x:65534: > $r/etc/group",
              ),
            ),
          ],
        },
        busybox: {
          from: 'scratch',
          env: { PATH },
          steps: [copy('/rootfs/', '/', { from: 'rootfs' })],
          cmd: ['sh'],
        },
      },
    },

    'bench-debian': {
      description: 'test bench debian (debian:bookworm-slim, debian:bookworm) from the cached debootstrap rootfs',
      // The rootfs tarball setup.sh makes with debootstrap, staged here (see the top of this file).
      context: 'test/.tmp/bench/debian',
      ignore: ['*', '!debian-bookworm-minbase-*.tar'],
      tags: ['127.0.0.1:5000/library/debian:bookworm-slim', '127.0.0.1:5000/library/debian:bookworm'],
      target: 'debian',
      stages: ({ args }) => ({
        rootfs: {
          from: 'busybox:1.35',
          workdir: '/rootfs',
          steps: [
            add(`debian-bookworm-minbase-${args.ARCH}.tar`, '/rootfs/'),
            // Slim it like the official image: no apt lists or caches, logs, device nodes or host files.
            run(
              sh(
                'rm -rf var/lib/apt/lists/* var/cache/apt/* var/cache/debconf/*-old var/log/* dev/* proc/* sys/* run/* tmp/*',
                'rm -f etc/hostname etc/resolv.conf etc/apt/sources.list.d/*',
                'mkdir -p var/lib/apt/lists/partial var/cache/apt/archives/partial',
                'chmod 1777 tmp',
                `echo "deb ${args.DEBIAN_MIRROR} bookworm main" > etc/apt/sources.list`,
              ),
            ),
          ],
        },
        debian: {
          from: 'scratch',
          env: { PATH },
          steps: [copy('/rootfs/', '/', { from: 'rootfs' })],
          cmd: ['bash'],
        },
      }),
    },

    'bench-node': {
      description: "test bench node (node:20-slim, node:20): debian plus this machine's node and npm",
      // This machine's node install, staged here (see the top of this file).
      context: 'test/.tmp/bench/node',
      ignore: ['*', '!bin/node', '!lib/node_modules/npm', '!lib/node_modules/corepack', '!include/node'],
      tags: ['127.0.0.1:5000/library/node:20-slim', '127.0.0.1:5000/library/node:20'],
      stage: ({ args }) => ({
        from: 'debian:bookworm-slim',
        env: { NODE_VERSION: args.NODE_FULL_VERSION },
        steps: [
          copy('bin/node', '/usr/local/bin/node', { chmod: '0755' }),
          copy('lib/node_modules/npm', '/usr/local/lib/node_modules/npm'),
          copy('lib/node_modules/corepack', '/usr/local/lib/node_modules/corepack'),
          copy('include/node', '/usr/local/include/node'),
          run(
            sh(
              'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm',
              'ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx',
              'ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack',
              'groupadd --gid 1000 node',
              'useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
              'test "$(node -v)" = "v$NODE_VERSION"',
              'npm -v',
              'rm -rf /root/.npm',
            ),
          ),
        ],
        cmd: ['node'],
      }),
    },
  },
});
