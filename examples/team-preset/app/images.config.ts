/**
 * A service of the team, as it would sit in its own repository: drydock and the team's preset
 * are ordinary npm dev dependencies (`npm i -D drydock @acme/drydock-preset-node`).
 */
import { defineConfig } from 'drydock';
import { acmeNode } from '@acme/drydock-preset-node';

export default defineConfig({
  images: {
    orders: acmeNode({
      tags: ['acme/orders:dev'],
      override: { runtime: { labels: { 'org.opencontainers.image.title': 'acme-orders' } } },
    }),
  },
});
