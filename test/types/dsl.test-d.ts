/**
 * The DSL's promise: a misspelt stage, arg or secret name, or a wrong arg type, is a type error
 * in the editor. Each `@ts-expect-error` below must fire, or the typecheck fails.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { arg, bind, cache, copy, defineConfig, image, run, secret } from 'drydock';

describe('a valid config', () => {
  it('type-checks with args, secrets, stage refs, bind and copy --from', () => {
    defineConfig({
      args: {
        NODE_VERSION: arg.enum(['20', '22'], { default: '20' }),
        PORT: arg.int({ default: 3000, min: 1, max: 65535 }),
        DEBUG: arg.boolean({ default: false }),
        REGION: arg.string({ pattern: /^[a-z]+-[0-9]$/, default: 'eu-1' }),
      },
      secrets: { npmrc: secret.file({ env: 'NPMRC_PATH' }), token: secret.env('TOKEN') },
      images: {
        api: {
          context: 'services/api',
          target: 'runtime',
          stages: ({ args, secrets }) => {
            expectTypeOf(args.NODE_VERSION).toEqualTypeOf<'20' | '22'>();
            expectTypeOf(args.PORT).toEqualTypeOf<number>();
            expectTypeOf(args.DEBUG).toEqualTypeOf<boolean>();
            return {
              deps: {
                from: `node:${args.NODE_VERSION}-slim`,
                workdir: '/app',
                steps: [
                  copy(['package.json'], './'),
                  run('npm ci', { mounts: [secrets.npmrc.at('/root/.npmrc'), cache('/root/.npm')] }),
                ],
              },
              build: {
                from: 'deps',
                steps: [copy('.', '.'), run('npm run build', { mounts: [bind('/deps', { from: 'deps' })] })],
              },
              runtime: {
                from: `node:${args.NODE_VERSION}-slim`,
                user: 'node',
                env: { PORT: args.PORT },
                expose: [args.PORT],
                cmd: ['node', '/app/dist/index.js'],
                steps: [copy('/app/dist', '/app/dist', { from: 'build' })],
              },
            };
          },
        },
        tool: { stages: { only: { from: image('busybox'), steps: [run(['true'])] } } },
        web: { stage: { from: 'busybox:1.35', steps: [copy('index.html', '/www/')] } },
      },
    });
  });
});

describe('type errors', () => {
  it('rejects a misspelt stage in from (object and function forms)', () => {
    defineConfig({
      // @ts-expect-error 'onee' is not a stage of this image
      images: { a: { stages: { one: { from: 'busybox:1' }, two: { from: 'onee' } } } },
    });
    defineConfig({
      images: {
        // @ts-expect-error 'onee' is not a stage of this image
        a: { stages: () => ({ one: { from: 'busybox:1' }, two: { from: 'onee' } }) },
      },
    });
  });

  it('rejects a misspelt stage in target, copy({ from }) and bind({ from })', () => {
    defineConfig({
      // @ts-expect-error 'tw' is not a stage
      images: { a: { target: 'tw', stages: { one: { from: 'busybox:1' }, two: { from: 'one' } } } },
    });
    defineConfig({
      images: {
        a: {
          stages: {
            one: { from: 'busybox:1' },
            // @ts-expect-error copy from 'onee'
            two: { from: 'one', steps: [copy('x', 'y', { from: 'onee' })] },
          },
        },
      },
    });
    defineConfig({
      images: {
        a: {
          stages: {
            one: { from: 'busybox:1' },
            // @ts-expect-error bind from 'onee'
            two: { from: 'one', steps: [run('ls /x', { mounts: [bind('/x', { from: 'onee' })] })] },
          },
        },
      },
    });
  });

  it('rejects a misspelt arg or secret', () => {
    defineConfig({
      args: { V: arg.enum(['1', '2']) },
      // @ts-expect-error W is not an arg
      images: { a: { stages: ({ args }) => ({ one: { from: `busybox:${args.W}` } }) } },
    });
    defineConfig({
      secrets: { tok: secret.env('TOK') },
      images: {
        a: {
          // @ts-expect-error tokk is not a secret
          stages: ({ secrets }) => ({ one: { from: 'busybox:1', steps: [run('x', { mounts: [secrets.tokk.at()] })] } }),
        },
      },
    });
  });

  it('rejects wrong arg types', () => {
    // @ts-expect-error an int arg's default is a number
    defineConfig({ args: { P: arg.int({ default: '3000' }) }, images: {} });
    // @ts-expect-error an enum default must be one of its values
    defineConfig({ args: { P: arg.enum(['a', 'b'], { default: 'c' }) }, images: {} });
    defineConfig({
      args: { P: arg.int() },
      // @ts-expect-error a number is not an image reference
      images: { a: { stages: ({ args }) => ({ one: { from: args.P } }) } },
    });
    defineConfig({
      args: { P: arg.boolean() },
      // @ts-expect-error a boolean is not a user name
      images: { a: { stages: ({ args }) => ({ one: { from: 'busybox:1', user: args.P } }) } },
    });
  });

  it('rejects a bare word as an image (it would be read as a stage)', () => {
    // @ts-expect-error 'busybox' is neither a stage nor a tagged image; use image('busybox')
    defineConfig({ images: { a: { stages: { one: { from: 'busybox' } } } } });
  });
});
