/**
 * A Python web app (standard library only) packaged by @drydock/preset-python: the preset finds
 * requirements.txt (pip) and main.py (the start command) and makes a two-stage image, a virtualenv
 * built in `build` and copied into a slim `runtime` that runs as an unprivileged user.
 */
import { defineConfig } from 'drydock';
import { python } from '@drydock/preset-python';

export default defineConfig({
  images: {
    'preset-python': python({
      version: '3.11',
      port: 8000,
      tags: ['drydock-examples/preset-python:latest'],
      description: 'the python preset example: a JSON service on http.server',
    }),
  },
});
