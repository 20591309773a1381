/**
 * The repository's own images.config.ts, built with BuildKit from what `drydock emit` writes:
 * `drydock` (the CLI, npm-packed from this workspace) must run and emit exactly what the host CLI
 * emits, and `bench-busybox` must rebuild the bench's busybox image. (`bench-debian` and
 * `bench-node` need host files staged first, see images.config.ts; they are built by hand.)
 * Needs root and the bench (`bash test/env/setup.sh`).
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, emitTo, envOf, inspect, type Emitted } from './emitted.js';
import { ROOT, Resources, docker, fileContains, npmrcWithSentinel, ok, requireBench } from './helpers.js';

const res = new Resources();
const SENTINEL = `drydock-sentinel-${res.runId}-${Math.random().toString(36).slice(2)}`;
let tmp = '';
let e: Emitted;
let cli: string;
let busybox: string;

beforeAll(async () => {
  await requireBench();
  tmp = res.dir(await mkdtemp(join(tmpdir(), 'drydock-dogfood-')));
  e = await emitTo('.', join(tmp, 'emitted'));
  const npmrc = join(tmp, 'npmrc');
  await writeFile(npmrc, await npmrcWithSentinel(SENTINEL), { mode: 0o600 });
  [cli, busybox] = await Promise.all([
    buildImage(res.tag('drydock'), e, 'drydock', { secrets: [`id=npmrc,src=${npmrc}`] }),
    buildImage(res.tag('bench-busybox'), e, 'bench-busybox'),
  ]);
});

afterAll(() => res.cleanup());

/** Runs a command in an image, as root, with its entrypoint replaced. */
async function sh(tag: string, script: string): Promise<string> {
  return ok(`sh in ${tag}`, await docker(['run', '--rm', '--user', '0', '--entrypoint', 'sh', tag, '-c', script]))
    .stdout;
}

describe('drydock image', () => {
  it('runs the packed CLI as node', async () => {
    const version = ok('--version', await docker(['run', '--rm', cli, '--version']));
    const { version: expected } = JSON.parse(await readFile(join(ROOT, 'cli/package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(`drydock ${expected}`);
    const c = await inspect(cli);
    expect(c.User).toBe('node');
    expect(c.Entrypoint).toEqual(['drydock']);
    expect(c.WorkingDir).toBe('/work');
    expect(envOf(c).NODE_PATH).toBe('/opt/drydock/node_modules');
    expect(await sh(cli, 'ls /opt/drydock/node_modules/drydock /opt/drydock/node_modules/@drydock/core')).toContain(
      'dist',
    );
  });

  it('emits from a mounted project exactly what the host CLI emits', async () => {
    const host = await emitTo('examples/monorepo', join(tmp, 'host-monorepo'));
    const out = join(tmp, 'container-monorepo');
    await mkdir(out);
    await chmod(out, 0o777); // the image runs as node
    const project = join(ROOT, 'examples/monorepo');
    const run = ['run', '--rm', '-v', `${project}:/work:ro`, '-v', `${out}:/out`, cli, 'emit', '-o', '/out'];
    ok('drydock emit in the image', await docker(run));
    expect((await readdir(out)).sort()).toEqual([...host.files.keys()]);
    for (const [name, text] of host.files) {
      const inside = await readFile(join(out, name), 'utf8');
      if (name.endsWith('.Dockerfile')) {
        // The header names the config relative to the output directory, which differs.
        expect(inside.split('\n').slice(1), name).toEqual(text.split('\n').slice(1));
      } else if (name === 'docker-bake.json') {
        // Paths are relative to the output directory; everything else is the same.
        const strip = (json: string) =>
          JSON.stringify(JSON.parse(json), (k, v: unknown) => (k === 'context' || k === 'dockerfile' ? undefined : v));
        expect(strip(inside)).toBe(strip(text));
      } else {
        expect(inside, name).toBe(text);
      }
    }
  });

  it('keeps the optional npmrc secret out of history, config and layers', async () => {
    expect(ok('history', await docker(['history', '--no-trunc', cli])).stdout).not.toContain(SENTINEL);
    expect(ok('inspect', await docker(['image', 'inspect', cli])).stdout).not.toContain(SENTINEL);
    const tar = join(tmp, 'drydock.tar');
    ok('save', await docker(['save', '-o', tar, cli]));
    expect(await fileContains(tar, SENTINEL)).toBe(false);
    expect(await fileContains(tar, 'drydock-core-0.1.0.tgz')).toBe(true);
  });
});

describe('bench-busybox image', () => {
  it("matches the bench's busybox:1.35: same files and links, users, PATH and CMD", async () => {
    const list = 'find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -print | sort';
    const mine = await sh(busybox, list);
    const bench = await sh('busybox:1.35', list);
    expect(mine).toBe(bench);
    expect(await sh(busybox, 'cat /etc/passwd /etc/group')).toBe(
      await sh('busybox:1.35', 'cat /etc/passwd /etc/group'),
    );
    const [a, b] = [await inspect(busybox), await inspect('busybox:1.35')];
    expect(a.Env).toEqual(b.Env);
    expect(a.Cmd).toEqual(b.Cmd);
    expect(await sh(busybox, 'echo "$(id -un nobody) $(stat -c %a /tmp) $(readlink /bin/sh)"')).toBe(
      'nobody 1777 /bin/busybox\n',
    );
  });
});
