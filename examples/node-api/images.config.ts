/**
 * A TypeScript HTTP service in three stages: `deps` installs every dependency (npm cache in a cache
 * mount, registry credentials from a secret `.npmrc` that never reaches a layer), `build` compiles
 * with tsc, `prod-deps` installs only runtime dependencies, and `runtime` is a slim image that runs
 * as `node` with nothing but the compiled code and its runtime node_modules.
 */
import { arg, cache, copy, defineConfig, run, secret } from 'drydock';

export default defineConfig({
  args: {
    NODE_VERSION: arg.enum(['20', '22'], { default: '20', description: 'Node.js major version' }),
    PORT: arg.int({ default: 3000, min: 1024, max: 65535, description: 'port the API listens on' }),
    APP_VERSION: arg.string({
      default: '1.0.0',
      pattern: /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$/,
      description: 'semver reported by GET / and the image labels',
    }),
  },
  secrets: {
    // An .npmrc with registry credentials, read from the file NPMRC_PATH names.
    npmrc: secret.file({ env: 'NPMRC_PATH' }, { description: '.npmrc with registry credentials' }),
  },
  images: {
    'node-api': {
      description: 'the example HTTP API',
      tags: ['drydock-examples/node-api:latest'],
      target: 'runtime',
      stages: ({ args, secrets }) => {
        // Both installs read the same credentials and share npm's download cache. The secret is
        // required: a build without it fails at once rather than half-working against a private
        // registry.
        const npmMounts = [secrets.npmrc.at('/root/.npmrc', { required: true }), cache('/root/.npm')];
        const node = `node:${args.NODE_VERSION}-slim` as const;
        return {
          deps: {
            from: node,
            workdir: '/app',
            steps: [
              copy(['package.json', 'package-lock.json'], './'),
              run('npm ci --no-audit --no-fund', { mounts: npmMounts }),
            ],
          },
          build: {
            from: 'deps',
            steps: [copy('tsconfig.json', './'), copy('src', './src'), run('npm run build')],
          },
          'prod-deps': {
            from: node,
            workdir: '/app',
            steps: [
              copy(['package.json', 'package-lock.json'], './'),
              run('npm ci --omit=dev --no-audit --no-fund', { mounts: npmMounts }),
            ],
          },
          runtime: {
            from: node,
            workdir: '/app',
            env: { NODE_ENV: 'production', PORT: args.PORT, APP_VERSION: args.APP_VERSION },
            steps: [
              copy('package.json', './'),
              copy('/app/node_modules', './node_modules', { from: 'prod-deps' }),
              copy('/app/dist', './dist', { from: 'build' }),
            ],
            user: 'node',
            expose: [args.PORT],
            labels: {
              'org.opencontainers.image.title': 'node-api',
              'org.opencontainers.image.description': 'drydock example: a small TypeScript HTTP API',
              'org.opencontainers.image.version': args.APP_VERSION,
              'org.opencontainers.image.licenses': 'Apache-2.0',
            },
            healthcheck: {
              test: [
                'node',
                '-e',
                "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
              ],
              interval: '10s',
              timeout: '3s',
              startPeriod: '5s',
              retries: 3,
            },
            cmd: ['node', 'dist/server.js'],
          },
        };
      },
    },
  },
});
