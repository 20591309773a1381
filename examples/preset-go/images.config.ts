/**
 * A Go web service (standard library only) packaged by @drydock/preset-go: the Go version comes
 * from go.mod, the main package is the module's root, and the image is the static binary on
 * scratch with CA certificates, running as uid 65532.
 */
import { defineConfig } from 'drydock';
import { go } from '@drydock/preset-go';

export default defineConfig({
  images: {
    'preset-go': go({
      port: 8080,
      tags: ['drydock-examples/preset-go:latest'],
      description: 'the go preset example: a JSON service on net/http',
    }),
  },
});
