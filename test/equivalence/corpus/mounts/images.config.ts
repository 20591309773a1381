/**
 * RUN mounts whose content must never reach the image: a cache mount (which persists between
 * builds: a counter in the cache counts the runs) and secret mounts, one from a file and one from
 * an environment variable (their values are used, never stored).
 *
 * RUN_ID keeps one test run's counter apart from earlier runs that share the cache; BUST makes the
 * step run again.
 */
import { arg, cache, defineConfig, run, secret } from 'drydock';

export default defineConfig({
  args: {
    RUN_ID: arg.string({ default: 'none', pattern: /^[a-z0-9-]{1,40}$/ }),
    BUST: arg.int({ default: 0 }),
  },
  secrets: {
    token: secret.file({ env: 'EQUIV_TOKEN_FILE' }),
    password: secret.env('EQUIV_PASSWORD'),
    // Never given to either build: its mount is optional.
    absent: secret.env('EQUIV_ABSENT_SECRET'),
  },
  images: {
    'cache-mount': {
      stage: ({ args }) => ({
        from: 'busybox:latest',
        steps: [
          run(
            [
              `mkdir -p /cache/${args.RUN_ID}`,
              `n=$(cat /cache/${args.RUN_ID}/count 2>/dev/null || echo 0)`,
              `echo $((n + 1)) > /cache/${args.RUN_ID}/count`,
              `echo "$n" > /runs-before`,
              `echo "${args.BUST}" > /bust`,
              `dd if=/dev/zero of=/cache/${args.RUN_ID}/big bs=1024 count=64 2>/dev/null`,
            ].join(' && '),
            { mounts: [cache('/cache', { id: 'equivalence-counter' })] },
          ),
        ],
      }),
    },
    // A secret that is not given, mounted with required: false; a cache mount with an owner and mode.
    'optional-and-owned': {
      stage: ({ secrets }) => ({
        from: 'busybox:latest',
        steps: [
          run('mkdir /out && (test -e /run/secrets/absent && echo present || echo absent) > /out/absent', {
            mounts: [secrets.absent.at(undefined, { required: false })],
          }),
          run('stat -c "%u:%g %a" /owned-cache > /out/owned-cache', {
            mounts: [cache('/owned-cache', { id: 'equivalence-owned', uid: 1000, gid: 1000, mode: 0o700 })],
          }),
        ],
      }),
    },
    // A cache mount seeded from a stage's directory.
    'seeded-cache': {
      stages: {
        seed: {
          from: 'busybox:latest',
          steps: [run('mkdir -p /seed && echo seeded > /seed/file')],
        },
        main: {
          from: 'busybox:latest',
          steps: [
            run('mkdir /out && cat /seeded-cache/file > /out/seeded', {
              mounts: [cache('/seeded-cache', { id: 'equivalence-seeded', from: 'seed', source: '/seed' })],
            }),
          ],
        },
      },
    },
    'secret-mount': {
      stage: ({ secrets }) => ({
        from: 'busybox:latest',
        steps: [
          run('mkdir /out && wc -c < /run/secrets/token > /out/token-length', { mounts: [secrets.token.at()] }),
          run('wc -c < /root/.password > /out/password-length && ls -ln /root/.password | cut -c1-10 > /out/mode', {
            mounts: [secrets.password.at('/root/.password', { mode: 0o400 })],
          }),
        ],
      }),
    },
  },
});
