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
