// checkHost: context directories and the sources of the secrets RUN steps mount, checked on this
// host against the real fixture folder test/config/fixtures/host (ctx/ and secrets/token.txt exist).
import {
  checkHost,
  GRAPH_VERSION,
  loadConfig,
  withLocations,
  type Graph,
  type ImageGraph,
  type SecretSpecs,
} from '@drydock/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, lineOf } from './helpers.js';

const dir = fixture('host');
const file = fixture('host', 'images.config.ts');
let secrets: SecretSpecs;
beforeAll(async () => {
  secrets = (await loadConfig(dir)).config.secrets!;
});

/** A graph in the shape the compiler makes: each image one stage of RUN steps mounting `mounts`. */
function graph(images: { name: string; context: string; mounts: string[] }[]): Graph {
  return {
    version: GRAPH_VERSION,
    args: [],
    secrets: Object.keys(secrets),
    images: images.map((i): ImageGraph => ({
      name: i.name,
      context: i.context,
      ignore: [],
      tags: [],
      platforms: [],
      target: 'main',
      baked: [],
      digest: 'sha256:0',
      stages: [
        {
          name: 'main',
          base: { kind: 'image', ref: 'busybox:1.36' },
          baseDigest: 'sha256:1',
          dependsOn: [],
          // `id?` mounts the secret with required: false.
          nodes: i.mounts.map((m, n) => ({
            op: 'run',
            command: { shell: `use ${m}` },
            mounts: [
              m.endsWith('?')
                ? { type: 'secret', id: m.slice(0, -1), target: `/run/secrets/${m.slice(0, -1)}`, required: false }
                : { type: 'secret', id: m, target: `/run/secrets/${m}` },
            ],
            id: `sha256:run${n}`,
            parent: 'sha256:1',
            inputs: [],
            args: [],
            loc: { file, line: 100 + n, column: 1 },
          })),
        },
      ],
    })),
  };
}

const SECRET_VALUE = 'not-really-a-secret-but-never-print-it';
const present = {
  DRYDOCK_TEST_TOKEN: SECRET_VALUE,
  DRYDOCK_TEST_TOKEN_FILE: 'secrets/token.txt',
  PATH: process.env.PATH,
};
const allSecretsButUnused = ['fromEnv', 'fromFile', 'fromFileEnv', 'fromCommand'];

describe('checkHost', () => {
  it('passes when every context exists and every mounted secret has a source', async () => {
    const g = graph([{ name: 'present', context: 'ctx', mounts: allSecretsButUnused }]);
    expect(await checkHost({ graph: g, configDir: dir, secrets, env: present })).toEqual([]);
  });

  it('DD121 for a missing context directory, naming it, locatable in the config', async () => {
    const g = graph([
      { name: 'present', context: 'ctx', mounts: [] },
      { name: 'absent', context: 'no-such-dir', mounts: [] },
    ]);
    const found = await checkHost({ graph: g, configDir: dir, secrets, env: present });
    expect(found.map((d) => d.code)).toEqual(['DD121']);
    expect(found[0]!.message).toContain(fixture('host', 'no-such-dir'));
    const [located] = await withLocations(found, file);
    expect(located!.loc?.line).toBe(lineOf(file, "context: 'no-such-dir'"));
  });

  it('DD121 when the context is a file, not a directory', async () => {
    const g = graph([{ name: 'present', context: 'ctx/hello.txt', mounts: [] }]);
    const found = await checkHost({ graph: g, configDir: dir, secrets, env: present });
    expect(found.map((d) => d.code)).toEqual(['DD121']);
  });

  it('DD140 for each mounted secret whose source is missing, at the step mounting it', async () => {
    const g = graph([
      { name: 'present', context: 'ctx', mounts: ['fromEnv', 'missingFile', 'fromFileEnv', 'missingCommand'] },
    ]);
    const found = await checkHost({ graph: g, configDir: dir, secrets, env: { PATH: process.env.PATH } });
    expect(found.map((d) => [d.code, d.message.match(/"(\w+)"/)?.[1], d.loc?.line])).toEqual([
      ['DD140', 'fromEnv', 100],
      ['DD140', 'missingFile', 101],
      ['DD140', 'fromFileEnv', 102],
      ['DD140', 'missingCommand', 103],
    ]);
    expect(found[0]!.message).toContain('DRYDOCK_TEST_TOKEN');
    expect(found[1]!.message).toContain('secrets/missing.txt');
    expect(found[3]!.message).toContain('drydock-test-no-such-program');
  });

  it('accepts a missing source when every step mounting it has required: false', async () => {
    const optional = graph([{ name: 'present', context: 'ctx', mounts: ['missingFile?', 'fromEnv?'] }]);
    expect(await checkHost({ graph: optional, configDir: dir, secrets, env: {} })).toEqual([]);
    const mixed = graph([{ name: 'present', context: 'ctx', mounts: ['missingFile?', 'missingFile'] }]);
    const found = await checkHost({ graph: mixed, configDir: dir, secrets, env: {} });
    expect(found.map((d) => [d.code, d.loc?.line])).toEqual([['DD140', 101]]);
  });

  it('DD140 when the file an env var names is missing', async () => {
    const g = graph([{ name: 'present', context: 'ctx', mounts: ['fromFileEnv'] }]);
    const env = { ...present, DRYDOCK_TEST_TOKEN_FILE: 'secrets/nope.txt' };
    const found = await checkHost({ graph: g, configDir: dir, secrets, env });
    expect(found.map((d) => d.code)).toEqual(['DD140']);
    expect(found[0]!.message).toContain(fixture('host', 'secrets', 'nope.txt'));
  });

  it('looks commands up on the PATH of the env it is given', async () => {
    const g = graph([{ name: 'present', context: 'ctx', mounts: ['fromCommand'] }]);
    expect(await checkHost({ graph: g, configDir: dir, secrets, env: present })).toEqual([]);
    const found = await checkHost({ graph: g, configDir: dir, secrets, env: { ...present, PATH: '' } });
    expect(found.map((d) => d.code)).toEqual(['DD140']);
  });

  it('ignores declared secrets no step mounts, and never prints a secret value', async () => {
    const g = graph([{ name: 'present', context: 'ctx', mounts: ['fromEnv', 'fromFile', 'missingFile'] }]);
    const found = await checkHost({ graph: g, configDir: dir, secrets, env: present });
    expect(found.map((d) => d.code)).toEqual(['DD140']);
    expect(JSON.stringify(found)).not.toContain(SECRET_VALUE);
    expect(JSON.stringify(found)).not.toContain('not-a-real-secret');
  });
});
