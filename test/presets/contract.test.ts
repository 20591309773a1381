/**
 * The preset contract (`definePreset`): what a preset author writes, what users can change, and
 * how compile runs it against the image's context. The preset here is a small real one ("tiny"),
 * compiled by the real compiler against fixture folders, through the public API only.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  arg,
  compile,
  copy,
  defineConfig,
  definePreset,
  DiagnosticError,
  projectFiles,
  run,
  type AnyConfig,
  type Command,
  type Diagnostic,
  type ImageGraph,
  type Node,
} from '@drydock/core';

const FIXTURES = fileURLToPath(new URL('./fixtures/contract/', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

interface TinyOptions {
  /** Port the server listens on. */
  port?: number;
  user?: string;
  from?: `${string}:${string}`;
}
type TinyStage = 'build' | 'runtime';
type TinyStep = 'setup' | 'script' | 'app' | 'artifacts';

/** Serves app.txt from busybox; when the project has build.sh, runs it and adds what it made. */
const tiny = definePreset<TinyOptions, TinyStage, TinyStep>({
  name: 'tiny',
  package: '@example/preset-tiny',
  importName: 'tiny',
  description: 'app.txt served from busybox',
  stageNames: ['build', 'runtime'],
  target: 'runtime',
  stepNames: ['setup', 'script', 'app', 'artifacts'],
  options: {
    port: (v) => (Number.isInteger(v) && (v as number) > 0 && (v as number) < 65536 ? undefined : 'a port number'),
    user: (v) => (typeof v === 'string' && v !== '' ? undefined : 'a user name or uid'),
    from: (v) => (typeof v === 'string' && v.includes(':') ? undefined : 'an image with a tag'),
  },
  ignore: ['*.log'],
  detect: (project) => (project.exists('app.txt') ? { reason: 'app.txt' } : undefined),
  stages(options, { project }) {
    const script = project.exists('build.sh') || options.steps?.script !== undefined;
    const port = options.port ?? 8080;
    return {
      build: {
        from: 'busybox:1.35',
        steps: {
          setup: run('mkdir -p /out'),
          script: script ? [copy('build.sh', '/build.sh'), run('sh /build.sh')] : undefined,
        },
      },
      runtime: {
        from: options.from ?? 'busybox:1.35',
        env: { PORT: port, MODE: 'tiny' },
        labels: { 'org.opencontainers.image.title': 'tiny' },
        steps: {
          app: copy('app.txt', '/srv/'),
          artifacts: script ? copy('/out', '/srv/out', { from: 'build' }) : undefined,
        },
        user: options.user ?? 'nobody',
        expose: [port],
        cmd: ['httpd', '-f', '-p', String(port), '-h', '/srv'],
      },
    };
  },
});

/** Compiles a config whose image contexts are fixture folders; returns the image or the diagnostics. */
function compileWith(config: AnyConfig): { image?: ImageGraph; diagnostics: Diagnostic[] } {
  const { graph, diagnostics } = compile(config, { project: (context) => projectFiles(FIXTURES + context) });
  return { image: graph.images[0], diagnostics };
}

function compiled(config: AnyConfig): ImageGraph {
  const { image, diagnostics } = compileWith(config);
  expect(diagnostics).toEqual([]);
  return image!;
}

/** Each node of a stage as a short Dockerfile-like line. */
function lines(image: ImageGraph, stage: string): string[] {
  const s = image.stages.find((x) => x.name === stage);
  if (!s) throw new Error(`no stage ${stage} (stages: ${image.stages.map((x) => x.name).join(', ')})`);
  return s.nodes.map(describeNode);
}

function describeNode(n: Node): string {
  const command = (c: Command) => ('shell' in c ? c.shell : JSON.stringify(c.exec));
  switch (n.op) {
    case 'run':
      return `RUN ${command(n.command)}`;
    case 'copy': {
      const from =
        n.from.kind === 'stage' ? `--from=${n.from.stage} ` : n.from.kind === 'image' ? `--from=${n.from.ref} ` : '';
      return `COPY ${from}${n.sources.join(' ')} ${n.dest}`;
    }
    case 'env':
      return `ENV ${n.env.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    case 'label':
      return `LABEL ${n.labels.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    case 'user':
      return `USER ${n.user}`;
    case 'expose':
      return `EXPOSE ${n.ports.join(' ')}`;
    case 'cmd':
      return `CMD ${command(n.command)}`;
    default:
      return n.op.toUpperCase();
  }
}

/** The line of this file holding `text` (the first one, after the preset's definition). */
function lineOf(text: string): number {
  const all = readFileSync(THIS_FILE, 'utf8').split('\n');
  const start = all.findIndex((l) => l.includes('// --- uses ---'));
  const i = all.findIndex((l, n) => n > start && l.includes(text));
  if (i < 0) throw new Error(`"${text}" is not in ${THIS_FILE}`);
  return i + 1;
}

function thrown(f: () => unknown): DiagnosticError {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e;
    throw e;
  }
  throw new Error('did not throw');
}

// --- uses ---

describe('a preset called for a whole image', () => {
  it('is an image def: its target, its stages from the project, its ignore patterns before the user’s', () => {
    const def = tiny({ context: 'plain', tags: ['tiny:dev'], ignore: ['tmp/'] });
    expect(def).toMatchObject({ context: 'plain', tags: ['tiny:dev'], ignore: ['*.log', 'tmp/'], target: 'runtime' });
    const image = compiled({ images: { web: def } });
    expect(image.target).toBe('runtime');
    expect(image.ignore).toEqual(['*.log', 'tmp/']);
    // No build.sh in "plain": the build stage is not used, so it is not built.
    expect(image.stages.map((s) => s.name)).toEqual(['runtime']);
    expect(lines(image, 'runtime')).toEqual([
      'ENV PORT=8080 MODE=tiny',
      'COPY app.txt /srv/',
      'USER nobody',
      'LABEL org.opencontainers.image.title=tiny',
      'EXPOSE 8080',
      'CMD ["httpd","-f","-p","8080","-h","/srv"]',
    ]);
  });

  it('adapts to the project it is compiled against: build.sh adds the build stage', () => {
    const image = compiled({ images: { web: tiny({ context: 'scripted' }) } });
    expect(image.stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(lines(image, 'build')).toEqual(['RUN mkdir -p /out', 'COPY build.sh /build.sh', 'RUN sh /build.sh']);
    expect(lines(image, 'runtime')).toContain('COPY --from=build /out /srv/out');
  });

  it('does nothing when imported or called: the project is read only when compile runs the stages', () => {
    let runs = 0;
    const counted = definePreset<object, 'runtime', 'app'>({
      name: 'counted',
      package: '@example/preset-counted',
      importName: 'counted',
      description: 'counts the runs of its stages',
      stageNames: ['runtime'],
      target: 'runtime',
      stepNames: ['app'],
      options: {},
      detect: () => undefined,
      stages(_options, { project }) {
        runs += 1;
        return {
          runtime: {
            from: 'busybox:1.35',
            steps: { app: project.exists('app.txt') ? copy('app.txt', '/srv/') : run('true') },
          },
        };
      },
    });
    const def = counted({ context: 'does-not-exist' });
    expect(typeof def.stages).toBe('function');
    expect(runs).toBe(0); // called: options checked, the stages not run, the project not read
    const { diagnostics } = compileWith({ images: { web: def } });
    expect(diagnostics).toEqual([]); // an empty context: no app.txt, nothing read fails
    expect(runs).toBe(1);
  });

  it('has its own steps located at the config line that called it, and the user’s steps at theirs', () => {
    const userSteps = [
      run('echo after'), // the user's step
    ];
    const def = tiny({ context: 'plain', after: { app: userSteps } }); // the call
    const image = compiled({ images: { web: def } });
    const nodes = image.stages.find((s) => s.name === 'runtime')!.nodes;
    const copyNode = nodes.find((n) => n.op === 'copy')!;
    const runNode = nodes.find((n) => n.op === 'run')!;
    expect(copyNode.loc).toMatchObject({ file: THIS_FILE, line: lineOf('// the call') });
    expect(runNode.loc).toMatchObject({ file: THIS_FILE, line: lineOf("// the user's step") });
    expect(runNode.loc!.line).not.toBe(lineOf('// the call'));
  });
});

describe('what users can change', () => {
  it('replaces a named step, or removes it with null', () => {
    const image = compiled({
      images: {
        web: tiny({
          context: 'scripted',
          steps: { script: run('echo custom > /out/built.txt'), setup: null },
        }),
      },
    });
    expect(lines(image, 'build')).toEqual(['RUN echo custom > /out/built.txt']);
  });

  it('supplies a step the preset left out for this project, in its place', () => {
    const image = compiled({ images: { web: tiny({ context: 'plain', steps: { script: run('echo made') } }) } });
    expect(lines(image, 'build')).toEqual(['RUN mkdir -p /out', 'RUN echo made']);
    expect(lines(image, 'runtime')).toContain('COPY --from=build /out /srv/out');
  });

  it('adds steps before and after named steps, in order', () => {
    const image = compiled({
      images: {
        web: tiny({
          context: 'plain',
          before: { app: [run('echo one'), run('echo two')] },
          after: { app: [copy('extra.txt', '/srv/')] },
        }),
      },
    });
    expect(lines(image, 'runtime').slice(1, 5)).toEqual([
      'RUN echo one',
      'RUN echo two',
      'COPY app.txt /srv/',
      'COPY extra.txt /srv/',
    ]);
  });

  it('sets stage fields: env and labels merge, anything else replaces', () => {
    const image = compiled({
      images: {
        web: tiny({
          context: 'plain',
          override: {
            runtime: {
              from: 'busybox:1.36',
              env: { MODE: 'custom', EXTRA: '1' },
              labels: { team: 'web' },
              user: '1000:1000',
              expose: [9000],
              cmd: ['httpd', '-f'],
            },
          },
        }),
      },
    });
    const runtime = image.stages.find((s) => s.name === 'runtime')!;
    expect(runtime.base).toEqual({ kind: 'image', ref: 'busybox:1.36' });
    expect(lines(image, 'runtime')).toEqual([
      'ENV PORT=8080 MODE=custom EXTRA=1',
      'COPY app.txt /srv/',
      'USER 1000:1000',
      'LABEL org.opencontainers.image.title=tiny team=web',
      'EXPOSE 9000',
      'CMD ["httpd","-f"]',
    ]);
  });

  it('passes the preset’s own options (base image, user, port) to it', () => {
    const image = compiled({
      images: { web: tiny({ context: 'plain', from: 'busybox:1.36', user: 'www', port: 81 }) },
    });
    expect(image.stages[0]!.base).toEqual({ kind: 'image', ref: 'busybox:1.36' });
    expect(lines(image, 'runtime')).toEqual(expect.arrayContaining(['USER www', 'EXPOSE 81', 'ENV PORT=81 MODE=tiny']));
  });
});

describe('stages spliced into an image the user writes', () => {
  it('takes the stage context (with the project) and options that may use the config’s args', () => {
    const config = defineConfig({
      args: { PORT: arg.int({ default: 8081 }) },
      images: {
        web: {
          context: 'scripted',
          target: 'debug',
          stages: (ctx) => ({
            ...tiny.stages(ctx, { port: ctx.args.PORT }),
            debug: { from: 'runtime', steps: [copy('/out/built.txt', '/debug/', { from: 'build' })] },
          }),
        },
      },
    });
    const image = compiled(config);
    expect(image.stages.map((s) => s.name)).toEqual(['build', 'runtime', 'debug']);
    // The arg stays an arg: the Dockerfile keeps ${PORT}.
    expect(lines(image, 'runtime')).toContain('EXPOSE ${PORT}');
  });

  it('refuses image fields, which belong to the image', () => {
    const e = thrown(() => tiny.stages({ project: projectFiles(FIXTURES + 'plain') }, { tags: ['x:y'] } as never));
    expect(e.diagnostics.map((d) => d.message)).toEqual([
      'preset tiny: option "tags" is an image field: set it on the image, next to stages',
    ]);
  });
});

describe('bad options: DD160, one line each, all at once, at the line that called the preset', () => {
  it('names the option and what is allowed', () => {
    const e = thrown(() => tiny({ port: 0, user: '', prot: 80 } as never)); // bad call
    expect(e.diagnostics.map((d) => d.code)).toEqual(['DD160', 'DD160', 'DD160']);
    expect(e.diagnostics.map((d) => d.message)).toEqual([
      'preset tiny: option "port" must be a port number (got 0)',
      'preset tiny: option "user" must be a user name or uid (got "")',
      'preset tiny: unknown option "prot" (options: port, user, from, steps, before, after, override, context, ignore, tags, platforms, description)',
    ]);
    for (const d of e.diagnostics) expect(d.loc).toMatchObject({ file: THIS_FILE, line: lineOf('// bad call') });
  });

  it('names unknown steps and stages with the ones there are', () => {
    const e = thrown(() =>
      tiny({
        steps: { instal: run('x') },
        before: { app: run('x') },
        override: { runtim: { user: 'x' } },
      } as never),
    );
    expect(e.diagnostics.map((d) => d.message)).toEqual([
      'preset tiny: steps.instal: "instal" is not a step of this preset (steps: setup, script, app, artifacts)',
      'preset tiny: before.app must be a list of steps (got { kind, op, command, mounts, loc })',
      'preset tiny: override.runtim: "runtim" is not a stage of this preset (stages: build, runtime)',
    ]);
  });

  it('reports a change to a step of a stage the image does not use, when compiling', () => {
    const { diagnostics } = compileWith({
      images: { web: tiny({ context: 'plain', after: { setup: [run('echo lost')] } }) },
    });
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      [
        'DD160',
        'preset tiny: after.setup: step "setup" belongs to stage "build", which this project\'s image does not use (stages used: runtime)',
      ],
    ]);
  });
});

describe('preset.extend: a team’s preset with its own defaults', () => {
  const team = tiny.extend({
    name: 'team-tiny',
    package: '@team/preset-tiny',
    importName: 'teamTiny',
    defaults: { port: 9090, user: 'www', override: { runtime: { labels: { team: 'platform' } } } },
  });

  it('has its own identity and the base preset’s stages', () => {
    expect({ ...team }).toMatchObject({
      kind: 'preset',
      name: 'team-tiny',
      package: '@team/preset-tiny',
      importName: 'teamTiny',
      description: 'app.txt served from busybox',
      importSnippet: "import { teamTiny } from '@team/preset-tiny';",
      stageNames: ['build', 'runtime'],
      target: 'runtime',
    });
    expect(team.detect(projectFiles(FIXTURES + 'plain'))).toEqual({ reason: 'app.txt' });
  });

  it('applies its defaults under the user’s options: plain objects merge, other values are replaced', () => {
    const image = compiled({
      images: { web: team({ context: 'plain', port: 8000, override: { runtime: { labels: { app: 'web' } } } }) },
    });
    expect(lines(image, 'runtime')).toEqual(
      expect.arrayContaining([
        'EXPOSE 8000',
        'USER www',
        'LABEL org.opencontainers.image.title=tiny team=platform app=web',
      ]),
    );
  });

  it('checks its defaults like options, naming the new preset', () => {
    expect(() => tiny.extend({ name: 'bad', package: 'bad', importName: 'bad', defaults: { port: -1 } })).toThrow(
      'preset bad: option "port" must be a port number (got -1)',
    );
  });
});

describe('what drydock init needs', () => {
  it('says which projects a preset fits, and how to import it', () => {
    expect(tiny.detect(projectFiles(FIXTURES + 'plain'))).toEqual({ reason: 'app.txt' });
    expect(tiny.detect(projectFiles(FIXTURES))).toBeUndefined();
    expect(tiny.importSnippet).toBe("import { tiny } from '@example/preset-tiny';");
    expect(tiny.optionNames).toEqual(['port', 'user', 'from']);
    expect(tiny.stepNames).toEqual(['setup', 'script', 'app', 'artifacts']);
  });
});

describe('definePreset rejects a broken definition when the preset package is imported', () => {
  it('names what is wrong', () => {
    expect(() =>
      definePreset<{ steps?: string }, 'a', 'x'>({
        name: 'Bad Name',
        package: 'bad',
        importName: 'bad-name',
        description: '',
        stageNames: ['a'],
        target: 'b' as 'a',
        stepNames: ['x'],
        options: { steps: () => undefined },
        detect: () => undefined,
        stages: () => ({ a: { from: 'scratch' } }),
      }),
    ).toThrow(
      'definePreset("Bad Name"): name "Bad Name" must be lowercase letters, digits and dashes, starting with a letter; ' +
        'importName "bad-name" must be a JavaScript identifier; target "b" is not one of stageNames (a); ' +
        'option "steps" is reserved for every preset (steps, before, after, override, context, ignore, tags, platforms, description)',
    );
  });
});
