// The real proof that the emitter's quoting is right: emit a graph, build the files with docker
// 20.10's BuildKit (`DOCKER_BUILDKIT=1 /usr/bin/docker build`, base images from the test bench's
// registry mirror, see test/env/README.md) and check the image config docker records against what
// the graph said. Needs root and the bench's dockerd: `npm test` runs test/env/setup.sh first.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitFiles, writeEmitted, type Graph } from '@drydock/core';
import { arg, graph, image, node, stage } from './graphs.js';

const DOCKER = '/usr/bin/docker';
const LONG = 300_000;

function docker(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(DOCKER, args, {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_BUILDKIT: '1', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Values chosen to break naive quoting: spaces, both quotes, backslashes, `$`, `#`, `=`, unicode.
const GREETING = 'hello "big" world\'s \\ $5 #1';
const VALUES: Record<string, string> = {
  PLAIN: 'production',
  SPACES: 'two  spaces and\ta tab',
  QUOTES: 'say "hi" & it\'s `ok`',
  BACKSLASHES: 'C:\\path\\to\\',
  HASH: '#not-a-comment',
  EQUALS: 'a=b=c',
  EMPTY: '',
  UNICODE: 'héllo ✓',
};

function roundTripGraph(): Graph {
  const envPairs: [string, string][] = [
    ...Object.entries(VALUES),
    ['FROM_ARG', '${GREETING}!'],
    ['LITERAL_DOLLAR', 'costs \\$5'],
  ];
  return graph(
    [
      image(
        'roundtrip',
        [
          stage('build', 'busybox:${BASE_TAG}', [
            node({ op: 'workdir', path: '/work' }),
            node({
              op: 'run',
              command: { shell: 'mkdir -p /out && cat /ctx/input.txt /cache/seen > /out/artifact.txt' },
              mounts: [
                { type: 'cache', target: '/cache', id: 'drydock-roundtrip', sharing: 'locked' },
                { type: 'bind', target: '/ctx', from: { kind: 'context' } },
                { type: 'tmpfs', target: '/scratch' },
              ],
            }),
            node({
              op: 'run',
              command: { exec: ['sh', '-c', 'cp "/ctx/my file.txt" /out/exec.txt'] },
              mounts: [{ type: 'bind', target: '/ctx', from: { kind: 'context' } }],
            }),
          ]),
          stage('runtime', 'busybox:${BASE_TAG}', [
            node({
              op: 'copy',
              from: { kind: 'stage', stage: 'build' },
              sources: ['/out/artifact.txt', '/out/exec.txt'],
              dest: '/app/',
              chown: '65534:65534',
              chmod: '0640',
            }),
            node({ op: 'copy', from: { kind: 'context' }, sources: ['my file.txt'], dest: '/app/my file.txt' }),
            node({ op: 'copy', from: { kind: 'context' }, sources: ['.'], dest: '/ctx/' }),
            node({ op: 'env', env: envPairs }, ['GREETING']),
            node({ op: 'run', command: { shell: 'printf "%s" "${GREETING}" > /greeting.txt' }, mounts: [] }, [
              'GREETING',
            ]),
            // Continuation lines: the built-in frontend joins them as sh would.
            node({
              op: 'run',
              command: { shell: 'echo one > /continued.txt && \\\n    echo "two  three" >> /continued.txt' },
              mounts: [],
            }),
            node(
              {
                op: 'label',
                labels: [
                  ['org.opencontainers.image.title', 'drydock round trip'],
                  ['quotes', '"quoted" \\ back'],
                  ['with space', 'v'],
                  ['tag', 'busybox:${BASE_TAG}'],
                ],
              },
              ['BASE_TAG'],
            ),
            node({ op: 'expose', ports: ['3000', '53/udp'] }),
            node({ op: 'volume', paths: ['/data', '/va b', "/it's"] }),
            node({ op: 'workdir', path: '/srv/my app' }),
            node({ op: 'user', user: 'nobody' }),
            node({ op: 'stopsignal', signal: 'SIGINT' }),
            node({
              op: 'healthcheck',
              healthcheck: {
                test: { shell: 'wget -q -O- "http://localhost:3000/" || exit 1' },
                interval: '30s',
                timeout: '5s',
                startPeriod: '10s',
                retries: 4,
              },
            }),
            node({ op: 'cmd', command: { exec: ['sh', '-c', 'echo "hi $HOME" \\ done'] } }),
          ]),
        ],
        { ignore: ['*.log'] },
      ),
    ],
    [arg('BASE_TAG', 'latest'), arg('GREETING', GREETING)],
  );
}

interface ImageConfig {
  Env: string[];
  Labels: Record<string, string> | null;
  ExposedPorts: Record<string, object>;
  Healthcheck: { Test: string[]; Interval: number; Timeout: number; StartPeriod: number; Retries: number };
  User: string;
  WorkingDir: string;
  StopSignal: string;
  Volumes: Record<string, object>;
  Cmd: string[];
}

describe('round trip through docker 20.10 BuildKit', () => {
  let dir = '';
  let dockerfile = '';
  const tags: string[] = [];
  // Unique per run, so no layer cached by an earlier run can stand in for this run's steps.
  const token = `${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    const probe = spawnSync(DOCKER, ['info'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      throw new Error(`dockerd is not reachable (run: sudo bash test/env/setup.sh)\n${probe.stderr}`);
    }
    dir = mkdtempSync(path.join(tmpdir(), 'drydock-roundtrip-'));
    writeFileSync(path.join(dir, 'input.txt'), `from the context ${token}\n`);
    writeFileSync(path.join(dir, 'my file.txt'), 'spaced\n');
    writeFileSync(path.join(dir, 'secret.txt'), 'must not be sent\n');
    writeFileSync(path.join(dir, 'debug.log'), 'must not be sent either\n');
    writeFileSync(path.join(dir, '.dockerignore'), 'secret.txt\n');
    mkdirSync(path.join(dir, 'cache-seed'));
    const outDir = path.join(dir, 'dockerfiles');
    const files = await emitFiles({ graph: roundTripGraph(), configFile: 'images.config.ts', configDir: dir, outDir });
    await writeEmitted(files);
    dockerfile = path.join(outDir, 'roundtrip.Dockerfile');
    // Put a file in the cache mount through another build sharing its id. (--no-cache would also
    // hide the cache mount's contents, so no build here uses it; the token keeps steps fresh.)
    const seed = path.join(dir, 'seed.Dockerfile');
    writeFileSync(
      seed,
      `FROM busybox:latest\nRUN --mount=type=cache,target=/cache,id=drydock-roundtrip,sharing=locked echo ${token} > /cache/seen\n`,
    );
    docker(['build', '--pull', '--progress=plain', '-f', seed, path.join(dir, 'cache-seed')]);
  }, LONG);

  afterAll(() => {
    for (const tag of tags) spawnSync(DOCKER, ['rmi', '-f', tag], { encoding: 'utf8' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function build(buildArgs: string[] = []): { tag: string; config: ImageConfig } {
    const tag = `drydock-roundtrip:${process.pid}-${tags.length}`;
    tags.push(tag);
    docker(['build', '--progress=plain', ...buildArgs, '-f', dockerfile, '-t', tag, dir]);
    const [inspected] = JSON.parse(docker(['image', 'inspect', tag])) as { Config: ImageConfig }[];
    return { tag, config: inspected!.Config };
  }
  const cat = (tag: string, file: string): string => docker(['run', '--rm', '--entrypoint', 'cat', tag, file]);

  it(
    'builds offline (no syntax line) and the image config says what the graph said',
    () => {
      const text = readFileSync(dockerfile, 'utf8');
      expect(text).not.toContain('# syntax=');
      expect(text).toContain('echo one > /continued.txt && \\\n    echo');
      expect(text).toContain('COPY ["my file.txt", "/app/my file.txt"]');
      const { tag, config } = build();

      const env = Object.fromEntries(config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      expect(env).toMatchObject({ ...VALUES, FROM_ARG: `${GREETING}!`, LITERAL_DOLLAR: 'costs $5' });
      expect(config.Labels).toEqual({
        'org.opencontainers.image.title': 'drydock round trip',
        quotes: '"quoted" \\ back',
        'with space': 'v',
        tag: 'busybox:latest',
      });
      expect(config.ExposedPorts).toEqual({ '3000/tcp': {}, '53/udp': {} });
      expect(config.Volumes).toEqual({ '/data': {}, '/va b': {}, "/it's": {} });
      expect(config.WorkingDir).toBe('/srv/my app');
      expect(config.User).toBe('nobody');
      expect(config.StopSignal).toBe('SIGINT');
      expect(config.Healthcheck).toEqual({
        Test: ['CMD-SHELL', 'wget -q -O- "http://localhost:3000/" || exit 1'],
        Interval: 30e9,
        Timeout: 5e9,
        StartPeriod: 10e9,
        Retries: 4,
      });
      expect(config.Cmd).toEqual(['sh', '-c', 'echo "hi $HOME" \\ done']);

      // Files: the cache and bind mounts fed the build stage, COPY --from kept owner and mode,
      // the JSON-form COPY found the spaced name, the shell saw the ARG's value unchanged.
      expect(cat(tag, '/app/artifact.txt')).toBe(`from the context ${token}\n${token}\n`);
      expect(docker(['run', '--rm', '--entrypoint', 'stat', tag, '-c', '%u:%g %a', '/app/artifact.txt']).trim()).toBe(
        '65534:65534 640',
      );
      expect(cat(tag, '/app/my file.txt')).toBe('spaced\n');
      expect(cat(tag, '/app/exec.txt')).toBe('spaced\n');
      expect(cat(tag, '/greeting.txt')).toBe(GREETING);
      expect(cat(tag, '/continued.txt')).toBe('one\ntwo  three\n');
      // The emitted <image>.Dockerfile.dockerignore replaced the context's: both its patterns and the config's applied.
      const sent = docker(['run', '--rm', '--entrypoint', 'ls', tag, '-a', '/ctx']).split('\n').filter(Boolean);
      expect(sent).toEqual(expect.arrayContaining(['input.txt', 'my file.txt', '.dockerignore']));
      expect(sent).not.toContain('secret.txt');
      expect(sent).not.toContain('debug.log');
    },
    LONG,
  );

  it(
    'takes --build-arg overrides of the declared ARGs',
    () => {
      const { tag, config } = build(['--build-arg', 'GREETING=over ridden "x"', '--build-arg', 'BASE_TAG=1.35']);
      expect(config.Env).toContain('FROM_ARG=over ridden "x"!');
      expect(config.Labels?.tag).toBe('busybox:1.35');
      expect(cat(tag, '/greeting.txt')).toBe('over ridden "x"');
    },
    LONG,
  );
});
