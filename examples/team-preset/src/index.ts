/**
 * Acme's preset: @drydock/preset-node with the platform team's defaults. Services write
 * `acmeNode({ tags: [...] })` and get Node 20, port 8080, a /health healthcheck and Acme's labels;
 * anything they pass themselves wins (objects such as labels merge, other values replace).
 */
import { node } from '@drydock/preset-node';

export const acmeNode = node.extend({
  name: 'acme-node',
  package: '@acme/drydock-preset-node',
  importName: 'acmeNode',
  description: "Acme's Node.js services: Node 20 on port 8080, /health checked, Acme labels",
  defaults: {
    version: '20',
    port: 8080,
    env: { TZ: 'UTC' },
    override: {
      runtime: {
        labels: {
          'org.opencontainers.image.vendor': 'Acme Corp',
          'com.acme.platform': 'node',
        },
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
  },
});
