/**
 * Multi-stage builds: COPY --from another stage (a directory, one file with a new owner, a
 * symlink), COPY --from an image, a stage that is never used (it would fail if it were built),
 * and `--target` to build an intermediate stage.
 */
import { copy, defineConfig, run } from 'drydock';

export default defineConfig({
  images: {
    'multi-stage': {
      target: 'final',
      stages: {
        builder: {
          from: 'busybox:latest',
          workdir: '/out',
          steps: [
            run(
              'echo artifact > artifact && mkdir -p lib && echo lib > lib/one && ln -s lib/one current && chmod 0751 lib && chmod 4750 artifact',
            ),
          ],
        },
        unused: {
          from: 'busybox:latest',
          steps: [run('echo the unused stage was built >&2 && exit 1')],
        },
        final: {
          from: 'busybox:1.35',
          steps: [
            copy('/out', '/app', { from: 'builder' }),
            copy('/out/artifact', '/single/artifact', { from: 'builder', chown: '1000:1000' }),
            copy('/out/current', '/single/current', { from: 'builder' }),
            copy('/bin/busybox', '/from-image/busybox', { from: 'busybox:latest' }),
            run('cat /app/current > /app-current'),
          ],
          cmd: ['cat', '/app/artifact'],
        },
      },
    },
  },
});
