/**
 * What a build records besides files: ENV, WORKDIR, USER and build-arg scoping as RUN steps see
 * them, and the image config fields (healthcheck, volumes, ports, stop signal, labels, entrypoint
 * and cmd, shell, onbuild).
 */
import { arg, copy, defineConfig, env, run, user, workdir } from 'drydock';

export default defineConfig({
  args: {
    GREETING: arg.string({ default: 'hello', pattern: /^[a-z-]{1,20}$/ }),
    LEVEL: arg.int({ default: 3, min: 1, max: 9 }),
    FLAVOUR: arg.enum(['plain', 'spicy'], { default: 'plain' }),
    BUSYBOX_TAG: arg.enum(['latest', '1.35'], { default: 'latest' }),
  },
  images: {
    // ENV values that refer to earlier ENV values and to args; args with defaults, overridable.
    'env-args': {
      stage: ({ args }) => ({
        from: 'busybox:latest',
        env: { FIRST: 'one', GREETING_ENV: args.GREETING },
        steps: [
          env({ SECOND: '${FIRST}-two', PATH: '/opt/bin:${PATH}' }),
          env({ THIRD: '${SECOND}-three', LEVEL_ENV: `level-${args.LEVEL}` }),
          run(
            `mkdir /out && echo "$FIRST $SECOND $THIRD $PATH" > /out/env && echo "${args.GREETING} ${args.LEVEL}" > /out/args`,
          ),
          run(`echo "${args.FLAVOUR}" > /out/flavour`),
        ],
        labels: { greeting: args.GREETING, level: `${args.LEVEL}` },
      }),
    },
    // WORKDIR made by the build (nested, relative to an earlier one), USER by name, RUN as that user.
    'workdir-user': {
      stage: {
        from: 'debian:bookworm-slim',
        steps: [
          run('groupadd -g 1500 app && useradd -u 1500 -g app -m -d /home/app app'),
          workdir('/srv/app'),
          workdir('data/nested'),
          run('pwd > /tmp/pwd-root'),
          user('app'),
          run('id > /tmp/id-app && pwd > /tmp/pwd-app && touch /home/app/made-by-app'),
          user('root'),
          workdir('/made/by/workdir'),
        ],
        user: 'app',
      },
    },
    // Dockerfile word expansion: ENV values with spaces, quotes, defaults (`${X:-y}`, `${X:+y}`), an
    // escaped `\$`, an empty value; ENV used in WORKDIR, COPY's destination, USER, LABEL
    // and VOLUME.
    words: {
      stage: ({ args }) => ({
        from: 'busybox:latest',
        steps: [
          env({
            BASE_DIR: '/opt/base',
            EMPTY: '',
            SPACED: 'has  two  spaces',
            QUOTES: `say "hi" and 'bye'`,
            PORT_ENV: '8123',
            RUNAS: 'nobody',
            FROM_ARG: `${args.GREETING}-from-arg`,
          }),
          env({ DEFAULTED: '${UNSET:-fallback}', ALT: '${BASE_DIR:+alt}', ESCAPED: '\\$BASE_DIR' }),
          workdir('${BASE_DIR}/work'),
          copy('files/x.txt', '${BASE_DIR}/copied/'),
          run('mkdir /words && echo "$SPACED|$QUOTES|$DEFAULTED|$ALT|$ESCAPED|$EMPTY|$FROM_ARG" > /words/env'),
          user('${RUNAS}'),
          run('id -u > /tmp/uid'),
          user('root'),
        ],
        labels: { 'label.with.env': '${BASE_DIR}', quoted: 'a "q" b', dollar: 'costs \\$5' },
        volumes: ['${BASE_DIR}/vol'],
      }),
    },
    // An arg in FROM: the base image itself is chosen by a build arg.
    'from-arg': {
      stage: ({ args }) => ({
        from: `busybox:${args.BUSYBOX_TAG}`,
        steps: [run(`echo "${args.BUSYBOX_TAG}" > /tag`)],
      }),
    },
    // Every image config field a stage can set.
    'image-config': {
      stage: {
        from: 'busybox:latest',
        shell: ['/bin/sh', '-ec'],
        steps: [run('echo "shell: $0 $-" > /shell-used')],
        entrypoint: ['/bin/sh', '-c'],
        cmd: ['echo hello from cmd'],
        expose: [8080, '9090/udp', '53/tcp'],
        volumes: ['/data', '/var/log/app'],
        stopSignal: 'SIGINT',
        labels: { 'org.opencontainers.image.title': 'image-config', 'equivalence.case': 'metadata', empty: '' },
        healthcheck: {
          test: ['test', '-e', '/shell-used'],
          interval: '30s',
          timeout: '5s',
          startPeriod: '2s',
          retries: 4,
        },
        onbuild: ['RUN echo built-on-top > /onbuild'],
        user: '65534:65534',
      },
    },
    // Shell-form entrypoint and cmd, and a healthcheck in shell form.
    'shell-forms': {
      stage: {
        from: 'busybox:latest',
        workdir: '/w',
        entrypoint: 'exec echo from-entrypoint',
        healthcheck: { test: 'test -d /w', interval: '1m' },
        stopSignal: '9',
      },
    },
  },
});
