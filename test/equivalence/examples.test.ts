/**
 * Every example image, built by BuildKit from its emitted Dockerfile and by drydock's own engine,
 * must be the same image (filesystem and config, see compare.ts). drydock's OCI layout output of
 * each is also read by other tools: `skopeo inspect` shows the same config, and `umoci unpack`
 * gives the same rootfs as BuildKit's image (docker's own init-layer files aside).
 *
 * node-api's npm install reaches the npm registry (host network), with an `.npmrc` secret holding
 * a sentinel that must not reach either image. Needs root, the bench and the built CLI.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileContains, npmrcWithSentinel, ok } from '../e2e/helpers.js';
import { docker, exec } from './proc.js';
import {
  CONFIG_FIELDS,
  diffFilesystems,
  expectSameImage,
  readRootfs,
  text,
  withoutDockerInit,
  type PickedConfig,
} from './compare.js';
import { Bench, NATIVE_SIDE, startAll, type BuildSpec, type ConfigUnderTest, type Pair } from './harness.js';

const bench = new Bench();
const hello = bench.config('examples/hello');
const nodeApi = bench.config('examples/node-api');
const monorepo = bench.config('examples/monorepo');
const SENTINEL = `drydock-sentinel-equivalence-${bench.runId}`;

interface Example {
  config: ConfigUnderTest;
  spec: BuildSpec;
}
const examples: Record<string, Example> = {};
let pairs: Record<string, Promise<Pair>>;
let layouts: Record<string, Promise<string>>;

beforeAll(async () => {
  await bench.setup();
  const npmrc = join(bench.tmp, 'npmrc');
  await writeFile(npmrc, await npmrcWithSentinel(SENTINEL), { mode: 0o600 });
  const npmSecret = { secrets: [{ id: 'npmrc', file: npmrc }], env: { NPMRC_PATH: npmrc } };
  Object.assign(examples, {
    hello: { config: hello, spec: { image: 'hello' } },
    'hello-args': { config: hello, spec: { image: 'hello', args: { GREETING: 'Good day', MOOD: 'excited' } } },
    'node-api': {
      config: nodeApi,
      spec: { image: 'node-api', args: { PORT: 4321, APP_VERSION: '2.3.4' }, ...npmSecret },
    },
    'monorepo-api': { config: monorepo, spec: { image: 'api', args: { API_PORT: 9191, RELEASE: '2.0.0' } } },
    'monorepo-worker': { config: monorepo, spec: { image: 'worker' } },
    'monorepo-web': { config: monorepo, spec: { image: 'web', args: { WEB_PORT: 9192 } } },
  } satisfies Record<string, Example>);
  const each = <T>(f: (name: string, e: Example) => Promise<T>) =>
    startAll(Object.fromEntries(Object.entries(examples).map(([name, e]) => [name, () => f(name, e)])));
  pairs = each((name, e) => e.config.pair(name, e.spec));
  // Written after the --load builds, from the same store: the second build of each reuses the first.
  layouts = each(async (name, e) => {
    await pairs[name]!.catch(() => undefined);
    return e.config.ociLayout(name, e.spec);
  });
});

afterAll(() => bench.cleanup());

async function same(name: string): Promise<Pair> {
  const pair = await pairs[name]!;
  expectSameImage(name, pair.buildkit, pair.drydock);
  return pair;
}

describe('examples built by BuildKit and by drydock are the same image', () => {
  it('hello, with the default args', async () => {
    const { buildkit } = await same('hello');
    expect(text(buildkit, '/etc/hello/greeting')).toBe('Hello\n');
  });

  it('hello, with --arg GREETING and MOOD', async () => {
    const { buildkit } = await same('hello-args');
    expect(text(buildkit, '/etc/hello/greeting')).toBe('Good day\n');
    expect(buildkit.config.Env).toContain('MOOD=excited');
  });

  it('node-api (multi-stage, npm cache mount, .npmrc secret), and the secret is in neither image', async () => {
    const { buildkit, drydock } = await same('node-api');
    expect(buildkit.config.ExposedPorts).toEqual({ '4321/tcp': {} });
    for (const s of [buildkit, drydock]) {
      for (const [path, e] of s.fs) expect(e.content?.includes(SENTINEL) ?? false, `${s.side} ${path}`).toBe(false);
      const saved = join(bench.tmp, `node-api-${s.side}.tar`);
      ok('docker save', await docker(['save', '-o', saved, s.tag]));
      expect(await fileContains(saved, SENTINEL), `${s.side}: docker save`).toBe(false);
      expect(ok('history', await docker(['history', '--no-trunc', s.tag])).stdout).not.toContain(SENTINEL);
    }
  });

  it('monorepo api', async () => {
    await same('monorepo-api');
  });

  it('monorepo worker', async () => {
    await same('monorepo-worker');
  });

  it('monorepo web', async () => {
    const { buildkit } = await same('monorepo-web');
    expect(text(buildkit, '/www/release.txt')).toBe('0.1.0\n');
  });
});

describe("drydock's OCI layout of each example, read by skopeo and umoci", () => {
  for (const name of ['hello', 'hello-args', 'node-api', 'monorepo-api', 'monorepo-worker', 'monorepo-web']) {
    it(`${name}: skopeo inspects the config BuildKit made; umoci unpacks BuildKit's rootfs`, async () => {
      const layout = await layouts[name]!;
      const { buildkit } = await pairs[name]!;
      const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
        manifests: { annotations?: Record<string, string> }[];
      };
      const refs = index.manifests.flatMap((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? []);
      expect(refs, 'index.json names the image (org.opencontainers.image.ref.name)').toHaveLength(1);
      const image = `${layout}:${refs[0]}`;

      const inspected = JSON.parse(ok('skopeo inspect', await exec('skopeo', ['inspect', `oci:${image}`])).stdout) as {
        Env?: string[];
        Labels?: Record<string, string> | null;
        Os: string;
        Architecture: string;
      };
      expect({ Os: inspected.Os, Architecture: inspected.Architecture }).toEqual({
        Os: 'linux',
        Architecture: 'amd64',
      });
      const raw = JSON.parse(
        ok('skopeo inspect --raw --config', await exec('skopeo', ['inspect', '--raw', '--config', `oci:${image}`]))
          .stdout,
      ) as { config?: Record<string, unknown> };
      // As docker shows it: absent User and WorkingDir are "" (plain strings in docker's config struct).
      const config = Object.fromEntries(
        CONFIG_FIELDS.map((f) => [f, raw.config?.[f] ?? (f === 'User' || f === 'WorkingDir' ? '' : null)]),
      ) as PickedConfig;
      // The BuildKit stand-in's layout comes from `skopeo copy`, whose conversion to OCI drops the
      // docker-only Healthcheck; drydock's own layout must keep it.
      const fields = CONFIG_FIELDS.filter((f) => NATIVE_SIDE === 'drydock' || f !== 'Healthcheck');
      const differing = fields.filter((f) => !isDeepStrictEqual(config[f], buildkit.config[f]));
      expect(
        differing.map(
          (f) => `${f}: ${JSON.stringify(buildkit.config[f])} (buildkit) vs ${JSON.stringify(config[f])} (oci)`,
        ),
      ).toEqual([]);
      expect(inspected.Env ?? null).toEqual(buildkit.config.Env);

      const bundle = join(bench.tmp, 'bundles', name);
      ok('umoci unpack', await exec('umoci', ['unpack', '--image', image, bundle]));
      const rootfs = await readRootfs('umoci', join(bundle, 'rootfs'));
      const lines = diffFilesystems(withoutDockerInit(buildkit, rootfs), withoutDockerInit(rootfs, rootfs));
      expect(lines, `${name}: docker export of the BuildKit image vs umoci unpack of drydock's layout`).toEqual([]);
    });
  }
});
