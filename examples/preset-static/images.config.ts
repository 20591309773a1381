/**
 * A static site packaged by @drydock/preset-static: package.json has a build script (Node's
 * standard library only) that writes dist/ with content-hashed asset names, so the server lets
 * browsers keep assets for a year while pages are revalidated with their ETag.
 */
import { defineConfig } from 'drydock';
import { staticSite } from '@drydock/preset-static';

export default defineConfig({
  images: {
    'preset-static': staticSite({
      port: 8080,
      tags: ['drydock-examples/preset-static:latest'],
      description: 'the static preset example: a built site with hashed assets',
    }),
  },
});
