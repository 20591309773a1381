/**
 * The smallest useful image: a shell script on busybox that greets whoever it is given.
 * GREETING and MOOD are typed build args used inside strings, so the emitted Dockerfile keeps them
 * as `ARG`s: `docker build --build-arg GREETING=Ahoy` works like `drydock build --arg GREETING=Ahoy`.
 */
import { arg, copy, defineConfig, run } from 'drydock';

export default defineConfig({
  args: {
    // A word or two: the pattern keeps shell metacharacters out of the RUN step below.
    GREETING: arg.string({ default: 'Hello', pattern: /^[A-Za-z][A-Za-z ]{0,31}$/ }),
    MOOD: arg.enum(['calm', 'excited'], { default: 'calm' }),
  },
  images: {
    hello: {
      description: 'prints a greeting',
      tags: ['drydock-examples/hello:latest'],
      stage: ({ args }) => ({
        from: 'busybox:1.35',
        env: { MOOD: args.MOOD },
        steps: [
          copy('greet.sh', '/usr/local/bin/greet', { chmod: '0755' }),
          run(`mkdir -p /etc/hello && echo "${args.GREETING}" > /etc/hello/greeting`),
        ],
        user: 'nobody',
        labels: { 'org.opencontainers.image.title': 'hello', 'example.greeting': args.GREETING },
        entrypoint: ['/usr/local/bin/greet'],
        cmd: ['world'],
      }),
    },
  },
});
