/**
 * Presets keep the DSL's promise: a misspelt option, step or stage, or a wrong option type, is a
 * type error in the editor. Each `@ts-expect-error` below must fire, or the typecheck fails.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { arg, copy, defineConfig, run, secret, type PresetImage, type StagesDef } from 'drydock';
import { node, type NodeStage } from '../../presets/node/src/index.js';

describe('the whole-image form', () => {
  it('is an image def whose target is the runtime stage', () => {
    expectTypeOf(node({})).toEqualTypeOf<PresetImage<NodeStage>>();
    defineConfig({
      args: { REGION: arg.string({ default: 'eu' }) },
      images: {
        api: node({
          version: '22',
          port: 8080,
          tags: ['api:dev'],
          steps: { build: run('npm run build:prod'), clean: null },
          before: { install: [copy('.npmrc', './')] },
          after: { app: [run('node warm.js')] },
          override: { runtime: { labels: { team: 'api' } }, 'prod-deps': { env: { CI: '1' } } },
        }),
      },
    });
  });

  it('rejects misspelt steps and stages, unknown options and wrong types', () => {
    // @ts-expect-error 'instal' is not a step of the node preset
    node({ steps: { instal: run('npm ci') } });
    // @ts-expect-error 'runtim' is not a stage of the node preset
    node({ override: { runtim: { user: 'root' } } });
    // @ts-expect-error before takes lists of steps
    node({ before: { install: run('echo') } });
    // @ts-expect-error port is a number (or false)
    node({ port: '8080' });
    // @ts-expect-error packageManager is npm, pnpm or yarn
    node({ packageManager: 'bun' });
    // @ts-expect-error not an option of the node preset
    node({ prot: 8080 });
  });
});

describe('the stages form', () => {
  it('returns the preset’s stages, typed, to extend with stages that refer to them', () => {
    defineConfig({
      args: { NODE_VERSION: arg.enum(['20', '22'], { default: '22' }), PORT: arg.int({ default: 3000 }) },
      secrets: { npmrc: secret.file({ env: 'NPMRC_PATH' }) },
      images: {
        api: {
          target: 'test',
          ignore: node.ignore,
          stages: (ctx) => {
            const stages = node.stages(ctx, {
              version: ctx.args.NODE_VERSION,
              port: ctx.args.PORT,
              mounts: [ctx.secrets.npmrc.at('/root/.npmrc')],
            });
            expectTypeOf(stages).toEqualTypeOf<StagesDef<NodeStage>>();
            return { ...stages, test: { from: 'build', steps: [run('npm test')] } };
          },
        },
      },
    });
  });

  it('makes a misspelt preset stage a type error in the user’s own stages', () => {
    defineConfig({
      images: {
        api: {
          target: 'test',
          // @ts-expect-error 'biuld' is not a stage of this image
          stages: (ctx) => ({ ...node.stages(ctx), test: { from: 'biuld' } }),
        },
      },
    });
  });
});
