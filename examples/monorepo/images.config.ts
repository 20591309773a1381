/**
 * Three images from one repository: an HTTP `api` and a stdin-driven `worker` share the
 * `nodeService` stage builder from ./stages.ts (test, then a clean runtime), and `web` is a static
 * site on busybox httpd. Each builds from its own folder under services/.
 */
import { arg, defineConfig } from 'drydock';
import { nodeService, staticSite } from './stages.js';

export default defineConfig({
  args: {
    NODE_VERSION: arg.enum(['20', '22'], { default: '20' }),
    RELEASE: arg.string({ default: '0.1.0', pattern: /^[0-9]+\.[0-9]+\.[0-9]+$/ }),
    API_PORT: arg.int({ default: 8080, min: 1024, max: 65535 }),
    WEB_PORT: arg.int({ default: 8081, min: 1024, max: 65535 }),
  },
  images: {
    api: {
      context: 'services/api',
      tags: ['drydock-examples/monorepo-api:latest'],
      stages: ({ args }) =>
        nodeService({
          title: 'monorepo api',
          nodeVersion: args.NODE_VERSION,
          release: args.RELEASE,
          main: 'src/server.js',
          env: { PORT: args.API_PORT },
          expose: [args.API_PORT],
          healthcheck: {
            test: [
              'node',
              '-e',
              "fetch('http://127.0.0.1:' + process.env.PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
            ],
            interval: '15s',
            timeout: '3s',
          },
        }),
    },
    worker: {
      context: 'services/worker',
      tags: ['drydock-examples/monorepo-worker:latest'],
      stages: ({ args }) =>
        nodeService({
          title: 'monorepo worker',
          nodeVersion: args.NODE_VERSION,
          release: args.RELEASE,
          main: 'src/worker.js',
          env: { WORKER_NAME: 'worker' },
        }),
    },
    web: {
      context: 'services/web',
      tags: ['drydock-examples/monorepo-web:latest'],
      stage: ({ args }) =>
        staticSite({ title: 'monorepo web', release: args.RELEASE, root: 'public', port: args.WEB_PORT }),
    },
  },
});
