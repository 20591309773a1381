/**
 * The image config a stage inherits: from its base image (busybox's Cmd, node's Env and Cmd) and
 * from another stage, with Docker's rule that ENTRYPOINT clears an inherited CMD, a healthcheck
 * turned off, and values overridden or extended.
 */
import { defineConfig, env, run, workdir } from 'drydock';

export default defineConfig({
  images: {
    // ENTRYPOINT alone on busybox (Cmd ["sh"]): Docker drops the inherited CMD.
    'entrypoint-only': {
      stage: { from: 'busybox:latest', entrypoint: ['/bin/echo', 'hi'] },
    },
    // CMD alone keeps no entrypoint; node's Env stays, extended.
    'node-cmd': {
      stage: {
        from: 'node:20-slim',
        env: { PATH: '/app/bin:${PATH}', NODE_ENV: 'production' },
        cmd: ['node', '--version'],
      },
    },
    // A stage built from another: config flows on, some of it replaced.
    'from-stage': {
      target: 'child',
      stages: {
        parent: {
          from: 'busybox:latest',
          workdir: '/parent',
          env: { FROM_PARENT: 'yes', SHARED: 'parent' },
          steps: [run('echo parent > /parent/file')],
          user: 'nobody',
          labels: { 'from.parent': 'yes', shared: 'parent' },
          expose: [7000],
          volumes: ['/parent-data'],
          stopSignal: 'SIGQUIT',
          healthcheck: { test: ['true'], interval: '5s' },
          entrypoint: ['/bin/sh', '-c'],
          cmd: ['echo parent'],
        },
        child: {
          from: 'parent',
          steps: [
            env({ SHARED: 'child', FROM_CHILD: '${FROM_PARENT}-child' }),
            workdir('sub'),
            run('pwd > /tmp/pwd || true'),
          ],
          labels: { shared: 'child' },
          expose: [7001],
          healthcheck: { test: 'none' },
          cmd: ['echo child'],
        },
      },
    },
  },
});
