/**
 * A Node.js HTTP server imaged by @drydock/preset-node, with no stages written by hand: the preset
 * reads package.json (Node 20 from engines.node, `node server.js` from the start script) and the
 * lockfile (npm), and makes a node:20-slim image that runs as `node` with NODE_ENV=production.
 * There are no dependencies, so there is no install step; `drydock graph -c examples/preset-node`
 * shows what the preset produced.
 */
import { defineConfig } from 'drydock';
import { node } from '@drydock/preset-node';

export default defineConfig({
  images: {
    'preset-node': node({
      description: 'the example HTTP server',
      tags: ['drydock-examples/preset-node:latest'],
      port: 8080,
      override: {
        runtime: {
          labels: { 'org.opencontainers.image.title': 'preset-node' },
          healthcheck: {
            test: [
              'node',
              '-e',
              "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
            ],
            interval: '10s',
            timeout: '3s',
            retries: 3,
          },
        },
      },
    }),
  },
});
