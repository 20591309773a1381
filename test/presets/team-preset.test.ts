/**
 * The npm sharing path, end to end: a team's own preset package (examples/team-preset, which
 * wraps @drydock/preset-node with `node.extend`) is packed with `npm pack`, as are drydock,
 * @drydock/core and @drydock/preset-node; a fresh project outside this repository installs the
 * four tarballs (no registry needed for them) and its installed `drydock` builds and loads an
 * image natively, which then serves HTTP with the team's defaults and the service's own settings.
 * Needs root, the bench (`bash test/env/setup.sh`) and the built workspace (`npm run build`).
 */
import { cp, mkdir, mkdtemp, readdir, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '../e2e/emitted.js';
import { docker, exec, freePort, httpGet, ok, requireBench, Resources, ROOT } from '../e2e/helpers.js';
import { MIRROR_ENV } from '../build/helpers.js';

const res = new Resources();
let packs = '';
let project = '';
let tarballs: string[] = [];

beforeAll(async () => {
  await requireBench();
  const work = res.dir(await mkdtemp(join(tmpdir(), 'drydock-team-preset-')));
  packs = join(work, 'packs');
  project = join(work, 'orders');
  await mkdir(packs);
  const npm = (args: string[], cwd: string) => exec('npm', [...args, '--no-audit', '--no-fund'], { cwd });
  ok(
    'npm pack (workspaces)',
    await npm(
      ['pack', '--workspace', 'core', '--workspace', 'cli', '--workspace', 'presets/node', '--pack-destination', packs],
      ROOT,
    ),
  );
  // The team's package builds itself when packed (prepack: tsc), as it would before `npm publish`.
  ok('npm pack (team preset)', await npm(['pack', '--pack-destination', packs], join(ROOT, 'examples/team-preset')));
  tarballs = (await readdir(packs)).filter((f) => f.endsWith('.tgz')).sort();
  await cp(join(ROOT, 'examples/team-preset/app'), project, { recursive: true });
  ok(
    'npm install (tarballs)',
    await npm(['install', '--save-dev', '--prefer-offline', ...tarballs.map((t) => join(packs, t))], project),
  );
}, 600_000);

afterAll(() => res.cleanup());

describe("a team's preset, shared as an npm package", () => {
  it('packs into a package holding only its built code', async () => {
    expect(tarballs).toEqual([
      'acme-drydock-preset-node-1.0.0.tgz',
      'drydock-0.1.0.tgz',
      'drydock-core-0.1.0.tgz',
      'drydock-preset-node-0.1.0.tgz',
    ]);
    const files = ok('tar', await exec('tar', ['-tzf', join(packs, 'acme-drydock-preset-node-1.0.0.tgz')]));
    expect(files.stdout.trim().split('\n').sort()).toEqual([
      'package/README.md',
      'package/dist/index.d.ts',
      'package/dist/index.js',
      'package/package.json',
    ]);
  });

  it('installs into a project outside this repository from the tarballs alone', async () => {
    for (const name of ['@acme/drydock-preset-node', '@drydock/preset-node', '@drydock/core', 'drydock']) {
      const installed = await realpath(join(project, 'node_modules', name));
      expect(installed, name).toBe(join(await realpath(project), 'node_modules', name));
    }
  });

  it('builds natively with the installed drydock; the image serves HTTP with the team defaults and the service’s settings', async () => {
    const tag = res.tag('acme-orders');
    const home = join(project, '..', 'home');
    const built = await exec(join(project, 'node_modules/.bin/drydock'), ['build', '--load', '-t', tag, '--no-color'], {
      cwd: project,
      env: { ...MIRROR_ENV, DRYDOCK_HOME: home },
    });
    ok('drydock build (installed)', built);
    expect(built.stdout).toMatch(/^orders\s+sha256:[0-9a-f]{64}\s/);

    const config = await inspect(tag);
    expect(config.User).toBe('node');
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {} }); // team default
    expect(config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production', 'PORT=8080', 'TZ=UTC']));
    expect(config.Labels).toEqual({
      'org.opencontainers.image.vendor': 'Acme Corp', // team default
      'com.acme.platform': 'node', // team default
      'org.opencontainers.image.title': 'acme-orders', // the service's own, merged in
    });
    expect(config.Healthcheck?.Test?.slice(0, 3)).toEqual(['CMD', 'node', '-e']);

    const port = await freePort();
    res.container(ok('docker run', await docker(['run', '-d', '-p', `127.0.0.1:${port}:8080`, tag])).stdout.trim());
    const reply = await httpGet(`http://127.0.0.1:${port}/`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ service: 'acme-orders', tz: 'UTC', env: 'production', uid: 1000 });
  });
});
