/**
 * Folding metadata nodes into an image config. The proof is BuildKit itself: the same graph,
 * emitted as a Dockerfile and built by docker 20.10, must give the same config that drydock folds
 * from the base image's config (read from the registry, as the engine will).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { arg, compile, defineConfig, emitDockerfile, env, run, workdir, type Graph } from '@drydock/core';
import { expandWord } from '../../core/src/engine/expand.js';
import {
  applyNode,
  durationNs,
  exposedPorts,
  startStage,
  type RuntimeConfig,
} from '../../core/src/engine/image-config.js';
import { RegistryClient } from '../../core/src/registry/index.js';

describe('expandWord', () => {
  const vars = new Map([
    ['A', 'x'],
    ['EMPTY', ''],
    ['PATH', '/bin'],
  ]);
  it.each([
    ['$A', 'x'],
    ['${A}-y', 'x-y'],
    ['pre$A.post', 'prex.post'],
    ['$UNSET|', '|'],
    ['${UNSET:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${A:-fallback}', 'x'],
    ['${A:+alt}', 'alt'],
    ['${UNSET:+alt}', ''],
    ['${UNSET:-${A}z}', 'xz'],
    ['/app/bin:$PATH', '/app/bin:/bin'],
    ['costs \\$ 5', 'costs $ 5'],
    ['a$', 'a$'],
    ['$1', '$1'],
    ['back\\slash "quoted"', 'back\\slash "quoted"'],
  ])('%s → %s', (word, expected) => {
    expect(expandWord(word, vars)).toBe(expected);
  });

  it('rejects modifiers the built-in frontend does not know', () => {
    expect(() => expandWord('${A#x}', vars)).toThrow(/unsupported modifier/);
  });
});

describe('durationNs', () => {
  it('reads Go durations as Docker stores them', () => {
    expect(durationNs('30s')).toBe(30e9);
    expect(durationNs('1m30s')).toBe(90e9);
    expect(durationNs('1.5s')).toBe(1.5e9);
    expect(durationNs('250ms')).toBe(250e6);
  });
});

const dirs: string[] = [];
const tags: string[] = [];
afterAll(() => {
  for (const tag of tags) execFileSync('/usr/bin/docker', ['rmi', '-f', tag], { stdio: 'ignore' });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const config = defineConfig({
  args: {
    PORT: arg.int({ default: 3000 }),
    FLAVOR: arg.string({ default: 'plain' }),
    UNSET_ARG: arg.string({ default: '' }),
    // Several ports in one arg, a range, an upper-case protocol: BuildKit splits and expands them.
    PORTS: arg.string({ default: '8000-8002/UDP 9000' }),
  },
  images: {
    meta: {
      stage: ({ args }) => ({
        from: 'busybox:latest',
        workdir: '/srv',
        env: {
          PATH: '/app/bin:$PATH',
          FIRST: 'one',
          SECOND: '${FIRST}-two',
          PORT: args.PORT,
          FALLBACK: '${UNSET_ARG:-fallback}',
          ALT: '${FIRST:+alt}',
          DOLLAR: 'costs \\$5',
          SPACED: 'a b  "c"',
        },
        steps: [workdir('app'), env({ FLAVORED: `${args.FLAVOR}-$FIRST` }), run('true')],
        user: 'nobody',
        labels: { 'org.example.flavor': args.FLAVOR, 'org.example.port': `${args.PORT}` },
        expose: [args.PORT, '53/udp', args.PORTS],
        volumes: ['/data'],
        stopSignal: 'SIGINT',
        healthcheck: { test: ['wget', '-q', 'http://127.0.0.1/'], interval: '1m30s', timeout: '5s', retries: 2 },
        entrypoint: ['/bin/sh', '-c'],
        onbuild: ['RUN echo child'],
      }),
    },
  },
});

interface Inspected {
  Config: RuntimeConfig & Record<string, unknown>;
}

function fields(c: RuntimeConfig & Record<string, unknown>): RuntimeConfig {
  const keys = [
    'Env',
    'Cmd',
    'Entrypoint',
    'User',
    'WorkingDir',
    'ExposedPorts',
    'Volumes',
    'Labels',
    'StopSignal',
    'Shell',
    'OnBuild',
    'Healthcheck',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys)
    if (c[k] !== null && c[k] !== undefined && !(Array.isArray(c[k]) && (c[k] as unknown[]).length === 0))
      out[k] = c[k];
  return out as RuntimeConfig;
}

async function baseConfig(): Promise<RuntimeConfig> {
  const client = new RegistryClient({ mirrors: { 'docker.io': ['http://127.0.0.1:5000'] } });
  const image = await client.resolve('busybox:latest');
  const manifest = image.manifest as { config: { digest: string; size: number; mediaType: string } };
  const bytes = await client.fetchBlobBytes('busybox:latest', manifest.config);
  return (JSON.parse(bytes.toString()) as { config: RuntimeConfig }).config;
}

function fold(graph: Graph, base: RuntimeConfig): RuntimeConfig {
  const args = new Map(graph.args.map((a) => [a.name, a.value ?? '']));
  let state = startStage(base);
  for (const node of graph.images[0]!.stages.at(-1)!.nodes) state = applyNode(state, node, args);
  return state.config;
}

describe.each([
  ['defaults', {} as Record<string, string>],
  ['args given', { PORT: '8080', FLAVOR: 'spicy', PORTS: '7000/tcp 127.0.0.1:7001:7001' }],
])('the folded config equals what BuildKit builds (%s)', (_, args) => {
  it('Env, Cmd, Entrypoint, User, WorkingDir, ports, volumes, labels, signal, healthcheck, onbuild', async () => {
    const { graph, diagnostics } = compile(config, { args });
    expect(diagnostics).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'drydock-config-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'Dockerfile'), emitDockerfile(graph, 'meta', { configFile: 'images.config.ts' }));
    const tag = `drydock-config-test:${process.pid}-${tags.length}`;
    tags.push(tag);
    const buildArgs = Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
    execFileSync('/usr/bin/docker', ['build', '-q', ...buildArgs, '-t', tag, dir], {
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
    });
    const [inspected] = JSON.parse(
      execFileSync('/usr/bin/docker', ['image', 'inspect', tag]).toString(),
    ) as Inspected[];

    const folded = fold(graph, await baseConfig());
    expect(fields(folded as RuntimeConfig & Record<string, unknown>)).toEqual(fields(inspected!.Config));
    // Spot checks, so a shared mistake cannot hide: the inherited CMD ["sh"] is gone; pairs of one
    // ENV see the env from before it (FIRST is unset there), a later ENV sees FIRST.
    expect(folded.Cmd).toBeUndefined();
    expect(folded.Env).toContain('SECOND=-two');
    expect(folded.Env).toContain(`FLAVORED=${args.FLAVOR ?? 'plain'}-one`);
    expect(folded.WorkingDir).toBe('/srv/app');
  });
});

describe('EXPOSE words, read as BuildKit reads them', () => {
  it('split at whitespace, ranges expanded, protocols lowercased, only the container port kept', () => {
    expect(exposedPorts('80')).toEqual(['80/tcp']);
    expect(exposedPorts(' 80/UDP  0443 ')).toEqual(['80/udp', '443/tcp']);
    expect(exposedPorts('8000-8002/sctp')).toEqual(['8000/sctp', '8001/sctp', '8002/sctp']);
    expect(exposedPorts('127.0.0.1:8080:80/tcp 90/')).toEqual(['80/tcp', '90/tcp']);
    expect(exposedPorts('')).toEqual([]);
  });

  it('refuses what is not a port, naming it', () => {
    for (const bad of ['http', '70000', '90-80', '80/icmp', '80/tcp/x', '-1']) {
      expect(() => exposedPorts(`22 ${bad}`)).toThrow(
        `expose "${bad}": not a port or port range (0-65535), optionally with /tcp, /udp or /sctp`,
      );
    }
  });
});
