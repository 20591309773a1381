/**
 * compile(): config + args → instruction graph. These tests read as the compiler's specification.
 */
import { describe, expect, it } from 'vitest';
import {
  arg,
  bind,
  cache,
  compile,
  copy,
  defineConfig,
  image,
  run,
  secret,
  type AnyConfig,
  type Graph,
  type ImageGraph,
} from '@drydock/core';

const nodeApi = defineConfig({
  args: {
    NODE_VERSION: arg.enum(['20', '22'], { default: '20' }),
    PORT: arg.int({ default: 3000, min: 1, max: 65535 }),
  },
  secrets: { npmrc: secret.env('NPMRC') },
  images: {
    api: {
      context: 'services/api',
      target: 'runtime',
      stages: ({ args, secrets }) => ({
        deps: {
          from: `node:${args.NODE_VERSION}-slim`,
          workdir: '/app',
          steps: [
            copy(['package.json', 'package-lock.json'], './'),
            run('npm ci', { mounts: [secrets.npmrc.at('/root/.npmrc'), cache('/root/.npm', { sharing: 'locked' })] }),
          ],
        },
        test: { from: 'deps', steps: [copy('.', '.'), run('npm test')] },
        build: { from: 'deps', steps: [copy('.', '.'), run('npm run build')] },
        runtime: {
          from: `node:${args.NODE_VERSION}-slim`,
          user: 'node',
          env: { PORT: args.PORT, NODE_ENV: 'production' },
          expose: [args.PORT],
          cmd: ['node', '/app/dist/index.js'],
          steps: [copy('/app/dist', '/app/dist', { from: 'build' })],
        },
      }),
    },
  },
});

function ok(config: AnyConfig, args?: Record<string, string>): Graph {
  const { graph, diagnostics } = compile(config, { args });
  expect(diagnostics).toEqual([]);
  return graph;
}
const img = (g: Graph, name: string): ImageGraph => g.images.find((i) => i.name === name)!;
const codes = (config: AnyConfig, args?: Record<string, string>) =>
  compile(config, { args }).diagnostics.map((d) => d.code);

describe('stages', () => {
  it('keeps only the stages the target needs, dependencies first', () => {
    const api = img(ok(nodeApi), 'api');
    expect(api.target).toBe('runtime');
    expect(api.stages.map((s) => s.name)).toEqual(['deps', 'build', 'runtime']);
    expect(api.stages.find((s) => s.name === 'runtime')!.dependsOn).toEqual(['build']);
  });

  it('orders a stage after the stages it reads even when written before them', () => {
    const g = ok({
      images: {
        a: {
          stages: {
            final: { from: 'busybox:1', steps: [copy('/out', '/out', { from: 'builder' })] },
            builder: { from: 'busybox:1', steps: [run('mkdir /out')] },
          },
          target: 'final',
        },
      },
    });
    expect(img(g, 'a').stages.map((s) => s.name)).toEqual(['builder', 'final']);
  });

  it('makes a single-stage image a stage named after the image', () => {
    const g = ok({ images: { web: { stage: { from: 'busybox:1.35', cmd: ['true'] } } } });
    expect(img(g, 'web').stages.map((s) => s.name)).toEqual(['web']);
    expect(img(g, 'web').target).toBe('web');
  });

  it('applies workdir and env before the steps, user and metadata after, ENTRYPOINT before CMD', () => {
    const g = ok({
      images: {
        a: {
          stage: {
            from: 'busybox:1',
            workdir: '/app',
            env: { A: '1' },
            user: 'nobody',
            cmd: ['b'],
            entrypoint: ['a'],
            steps: [run('true')],
          },
        },
      },
    });
    expect(img(g, 'a').stages[0]!.nodes.map((n) => n.op)).toEqual([
      'workdir',
      'env',
      'run',
      'user',
      'entrypoint',
      'cmd',
    ]);
  });
});

describe('args', () => {
  it('keeps args symbolic where a Dockerfile expands them', () => {
    const api = img(ok(nodeApi), 'api');
    const runtime = api.stages.find((s) => s.name === 'runtime')!;
    expect(runtime.base).toEqual({ kind: 'image', ref: 'node:${NODE_VERSION}-slim' });
    const env = runtime.nodes.find((n) => n.op === 'env')!;
    expect(env).toMatchObject({
      env: [
        ['PORT', '${PORT}'],
        ['NODE_ENV', 'production'],
      ],
      args: ['PORT'],
    });
    expect(runtime.nodes.find((n) => n.op === 'expose')).toMatchObject({ ports: ['${PORT}'] });
    expect(api.baked).toEqual([]);
  });

  it('gives the same definition digests for any arg value while args stay symbolic', () => {
    const a = img(ok(nodeApi), 'api');
    const b = img(ok(nodeApi, { NODE_VERSION: '22', PORT: '8080' }), 'api');
    expect(b.stages.map((s) => s.nodes.map((n) => n.id))).toEqual(a.stages.map((s) => s.nodes.map((n) => n.id)));
    expect(b.digest).not.toBe(a.digest); // the image digest does cover the values used
  });

  it('inlines an arg the config branches on, and says why', () => {
    const config = defineConfig({
      args: { FLAVOR: arg.enum(['slim', 'full'], { default: 'slim' }), TAG: arg.string({ default: '1' }) },
      images: {
        a: {
          stages: ({ args }) => ({
            main: {
              from: `busybox:${args.TAG}`,
              steps: args.FLAVOR === 'full' ? [run('echo full')] : [run('echo slim')],
            },
          }),
        },
      },
    });
    const full = img(ok(config as AnyConfig, { FLAVOR: 'full' }), 'a');
    expect(full.baked).toEqual([{ name: 'FLAVOR', value: 'full', reason: 'branch' }]);
    expect(full.stages[0]!.nodes[0]).toMatchObject({ command: { shell: 'echo full' } });
    expect(full.stages[0]!.base).toEqual({ kind: 'image', ref: 'busybox:${TAG}' }); // TAG stays symbolic
  });

  it('inlines args where a Dockerfile cannot expand them (CMD, exec-form RUN)', () => {
    const config = defineConfig({
      args: { PORT: arg.int({ default: 3000 }) },
      images: {
        a: {
          stage: ({ args }) => ({
            from: 'busybox:1',
            steps: [run(['echo', `${args.PORT}`])],
            cmd: ['httpd', '-p', `${args.PORT}`],
          }),
        },
      },
    });
    const a = img(ok(config as AnyConfig, { PORT: '8080' }), 'a');
    expect(a.stages[0]!.nodes.map((n) => ('command' in n ? n.command : null))).toEqual([
      { exec: ['echo', '8080'] },
      { exec: ['httpd', '-p', '8080'] },
    ]);
    expect(a.baked).toEqual([{ name: 'PORT', value: '8080', reason: 'no-expansion', where: 'RUN (exec form), CMD' }]);
  });

  it('reports a value outside the arg type with what is allowed', () => {
    const { diagnostics } = compile(nodeApi, { args: { NODE_VERSION: '21', PORT: '70000' } });
    expect(diagnostics.map((d) => d.code)).toEqual(['DD130', 'DD130']);
    expect(diagnostics[0]!.message).toContain('one of 20, 22');
    expect(diagnostics[1]!.message).toContain('from 1 to 65535');
  });

  it('reports unknown args, missing required args and bad defaults', () => {
    const config = { args: { A: arg.string(), B: arg.int({ default: 5, max: 3 }) }, images: {} } as AnyConfig;
    expect(codes(config, { C: 'x' }).sort()).toEqual(['DD131', 'DD132', 'DD133']);
  });
});

describe('references and paths', () => {
  it('reports every problem at once', () => {
    const config = {
      secrets: { tok: secret.env('TOK') },
      images: {
        a: {
          stages: {
            one: { from: 'busybox:1', steps: [copy('/etc/passwd', '/x'), copy('../secret', '/y')] },
            two: { from: 'onee', steps: [copy('a', 'b', { from: 'buidl' })] },
            Two: { from: 'one', steps: [run('x', { mounts: [{ kind: 'mount', type: 'secret', id: 'nope' }] })] },
          },
          target: 'two',
        },
      },
    } as unknown as AnyConfig;
    expect(codes(config).sort()).toEqual(['DD110', 'DD110', 'DD112', 'DD120', 'DD120', 'DD141']);
  });

  it('names the stages and the image spelling in an unknown stage error', () => {
    const [d] = compile({
      images: { a: { stages: { one: { from: 'busybox:1' }, two: { from: 'onee' } } } },
    }).diagnostics;
    expect(d).toMatchObject({ code: 'DD110', path: { image: 'a', stage: 'two', field: 'from', value: 'onee' } });
    expect(d!.hint).toBe("stages: one, two; for an image write onee:TAG or image('onee')");
  });

  it('reports a stage cycle with its path', () => {
    const config = {
      images: {
        a: {
          stages: {
            x: { from: 'y' },
            y: { from: 'busybox:1', steps: [copy('/f', '/f', { from: 'x' })] },
          },
        },
      },
    } as AnyConfig;
    const d = compile(config).diagnostics;
    expect(d.map((x) => x.code)).toEqual(['DD111']);
    expect(d[0]!.message).toContain('x -> y -> x');
  });

  it('accepts image() for untagged images and bind mounts from stages', () => {
    const g = ok({
      images: {
        a: {
          stages: {
            src: { from: image('busybox'), steps: [run('mkdir /src')] },
            out: { from: 'scratch', steps: [run('ls', { mounts: [bind('/s', { from: 'src' })] })] },
          },
        },
      },
    });
    const out = img(g, 'a').stages[1]!;
    expect(out.base).toEqual({ kind: 'scratch' });
    expect(out.dependsOn).toEqual(['src']);
    expect(out.nodes[0]!.inputs).toEqual([img(g, 'a').stages[0]!.nodes[0]!.id]);
  });

  it('rejects duplicate tags across images and bad field values', () => {
    const config = {
      images: {
        a: {
          tags: ['r/x:1'],
          stage: { from: 'busybox:1', expose: [70000], healthcheck: { test: ['true'], interval: '5 sec' } },
        },
        b: { tags: ['r/x:1'], stage: { from: 'Busybox:1', steps: [copy('a', 'b', { chmod: '999' })] } },
      },
    } as AnyConfig;
    expect(codes(config).sort()).toEqual(['DD112', 'DD160', 'DD160', 'DD160', 'DD160']);
  });
});

describe('the graph', () => {
  it('is deterministic and JSON-serializable', () => {
    const a = JSON.stringify(ok(nodeApi));
    const b = JSON.stringify(ok(nodeApi));
    expect(a).toBe(b);
    expect(JSON.parse(a)).toEqual(ok(nodeApi));
  });

  it('chains definition digests: a changed step changes it and everything after, not before', () => {
    const make = (cmd: string) =>
      img(
        ok({
          images: { a: { stage: { from: 'busybox:1', steps: [run('one'), run(cmd), run('three')] } } },
        }),
        'a',
      );
    const [x, y] = [make('two'), make('TWO')];
    const ids = (i: ImageGraph) => i.stages[0]!.nodes.map((n) => n.id);
    expect(ids(x)[0]).toBe(ids(y)[0]);
    expect(ids(x)[1]).not.toBe(ids(y)[1]);
    expect(ids(x)[2]).not.toBe(ids(y)[2]);
  });

  it('records the config line of each step and names secrets by id', () => {
    const g = ok(nodeApi);
    const runNode = img(g, 'api').stages[0]!.nodes.find((n) => n.op === 'run')!;
    expect(runNode.loc?.file).toMatch(/compile\.test\.ts$/);
    expect(runNode).toMatchObject({
      mounts: [{ type: 'secret', id: 'npmrc', target: '/root/.npmrc', required: true }, { type: 'cache' }],
    });
    expect(g.secrets).toEqual(['npmrc']);
  });
});
