/**
 * The instruction graph of every example, as `drydock graph` prints it (text and JSON), kept as file
 * snapshots in __snapshots__/: a change to an example, the compiler or a renderer shows up as a
 * readable diff. Regenerate with `npx vitest run test/examples -u` and review the diff.
 *
 * Runs the built CLI (`npm run build` first), the way users and CI run it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, drydock, ok } from '../e2e/helpers.js';

const examples = (await readdir(join(ROOT, 'examples'), { withFileTypes: true }))
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'examples', d.name, 'images.config.ts')))
  .map((d) => d.name)
  .sort();

async function graph(config: string, format: 'text' | 'json', args: readonly string[] = []): Promise<string> {
  return ok(`drydock graph -c ${config}`, await drydock(['graph', '-c', config, '--format', format, ...args])).stdout;
}

it('finds the examples', () => {
  expect(examples).toEqual(expect.arrayContaining(['hello', 'monorepo', 'node-api']));
});

describe.each(examples)('examples/%s', (name) => {
  const config = `examples/${name}`;

  it('graph --format text matches the snapshot', async () => {
    await expect(await graph(config, 'text')).toMatchFileSnapshot(`__snapshots__/${name}.graph.txt`);
  });

  it('graph --format json matches the snapshot', async () => {
    const json = await graph(config, 'json');
    const parsed = JSON.parse(json) as { version: number; images: { name: string }[] };
    expect(parsed.version).toBe(1);
    expect(parsed.images.length).toBeGreaterThan(0);
    // Portable: call sites are relative to the config's directory, never this checkout's path.
    expect(json).not.toContain(ROOT.replace(/\/$/, ''));
    await expect(json).toMatchFileSnapshot(`__snapshots__/${name}.graph.json`);
  });
});

describe('args given on the command line', () => {
  it('change the graph only where the arg is used', async () => {
    const text = await graph('examples/hello', 'text', ['--arg', 'GREETING=Good day', '--arg', 'MOOD=excited']);
    await expect(text).toMatchFileSnapshot('__snapshots__/hello.args.graph.txt');
    // Still symbolic: the value is the ARG's, the instructions keep ${GREETING}.
    expect(text).toContain('${GREETING}');
  });

  it('are checked against their declared type', async () => {
    const port = await drydock(['graph', '-c', 'examples/node-api', '--arg', 'PORT=80']);
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/PORT/);
    const node = await drydock(['graph', '-c', 'examples/node-api', '--arg', 'NODE_VERSION=21']);
    expect(node.code).toBe(1);
    expect(node.stderr).toMatch(/NODE_VERSION/);
    expect(node.stderr).toMatch(/20.*22/);
    const release = await drydock(['graph', '-c', 'examples/monorepo', '--arg', 'RELEASE=latest']);
    expect(release.code).toBe(1);
    expect(release.stderr).toMatch(/RELEASE/);
  });
});

describe('drydock check', () => {
  it('passes for examples that need nothing from the machine', async () => {
    for (const config of ['examples/hello', 'examples/monorepo']) {
      const r = await drydock(['check', '-c', config]);
      expect(r.code, config + r.stdout + r.stderr).toBe(0);
    }
  });

  it("reports node-api's required secret until NPMRC_PATH names a file", async () => {
    const missing = await drydock(['check', '-c', 'examples/node-api'], { env: { NPMRC_PATH: '' } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/DD140.*NPMRC_PATH/);
    const given = await drydock(['check', '-c', 'examples/node-api'], {
      env: { NPMRC_PATH: join(ROOT, 'examples/node-api/package.json') },
    });
    expect(given.code, given.stdout + given.stderr).toBe(0);
  });
});

describe("the repository's own images.config.ts", () => {
  it('loads and compiles: the drydock image and the bench base images', async () => {
    const parsed = JSON.parse(await graph('.', 'json')) as { images: { name: string; stages: unknown[] }[] };
    expect(parsed.images.map((i) => i.name)).toEqual(['drydock', 'bench-busybox', 'bench-debian', 'bench-node']);
    for (const image of parsed.images) expect(image.stages.length).toBeGreaterThan(0);
  });

  it('emits a Dockerfile per image and a bake file', async () => {
    const out = await mkdtemp(join(tmpdir(), 'drydock-root-emit-'));
    try {
      ok('emit', await drydock(['emit', '-c', '.', '-o', out]));
      const files = (await readdir(out)).sort();
      for (const image of ['drydock', 'bench-busybox', 'bench-debian', 'bench-node']) {
        expect(files).toContain(`${image}.Dockerfile`);
        expect(files).toContain(`${image}.Dockerfile.dockerignore`);
      }
      expect(files).toContain('docker-bake.json');
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
