/**
 * The executable compiles drydock's bundles from V8 code caches that a build keeps in the store
 * (core/src/boot.ts): written once, again when a build does a kind of work the writer did not (so
 * that the cache holds that code too), taken as they are otherwise, made again when V8 rejects one;
 * and the core bundle it loads is the one instance a config's `import 'drydock'` gets.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drydock, tempDir } from './helpers.js';

const MIRROR = { DRYDOCK_REGISTRY_MIRRORS: 'docker.io=http://127.0.0.1:5000' };

function project(): { dir: string; home: string; cache: string } {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'images.config.ts'),
    [
      "import { defineConfig, run } from 'drydock';",
      'export default defineConfig({',
      "  images: { tiny: { stages: () => ({ main: { from: 'busybox:latest', steps: [run('echo hi > /hi')] } }) } },",
      '});',
      '',
    ].join('\n'),
  );
  const home = join(dir, 'home');
  mkdirSync(home);
  return { dir, home, cache: join(home, 'v1', 'code-cache') };
}

/** Each cache file with its bytes and mtime. */
function caches(dir: string): Map<string, { bytes: Buffer; mtimeMs: number }> {
  return new Map(
    readdirSync(dir).map((name) => [
      name,
      { bytes: readFileSync(join(dir, name)), mtimeMs: statSync(join(dir, name)).mtimeMs },
    ]),
  );
}

/** The kinds of work a cache file names on its first line (core/src/boot.ts). */
function areasOf(bytes: Buffer): string[] {
  const line = bytes.toString('latin1', 0, bytes.indexOf(10));
  const [magic, list] = line.split('\t');
  expect(magic).toBe('drydock-code-cache');
  return list!.trimEnd().split(',');
}

describe('the code cache', () => {
  it('is written by a build for the core and CLI bundles, again when a build does more, then taken as it is', async () => {
    const p = project();
    const env = { ...MIRROR, DRYDOCK_HOME: p.home };
    // Only a build keeps one: a --version compiles too little to be worth keeping.
    expect((await drydock(['--version'], { env })).code).toBe(0);
    expect(() => readdirSync(p.cache)).toThrow(/ENOENT/);

    expect((await drydock(['build', '-c', p.dir], { env })).code).toBe(0);
    const first = caches(p.cache);
    const node = `${process.version}-${process.arch}`;
    expect([...first.keys()].sort()).toEqual([
      expect.stringMatching(new RegExp(`^bundle\\.cjs-[0-9a-f]{12}-[0-9a-f]{32}-${node}\\.bin$`)),
      expect.stringMatching(new RegExp(`^drydock\\.cjs-[0-9a-f]{12}-[0-9a-f]{32}-${node}\\.bin$`)),
    ]);
    // Each names the kinds of work of the run that wrote it: this one pulled and ran a step.
    for (const { bytes } of first.values()) expect(areasOf(bytes)).toEqual(['pull', 'step:RUN']);

    // A build that takes its step from the cache runs code the first did not: the caches are
    // written again, with both runs' functions.
    const cached = await drydock(['build', '-c', p.dir], { env });
    expect(cached.code).toBe(0);
    expect(cached.stderr).toContain('built 1 image, 0 steps executed');
    const second = caches(p.cache);
    expect([...second.keys()]).toEqual([...first.keys()]);
    for (const [name, { bytes }] of second) {
      expect(areasOf(bytes)).toEqual(['cached', 'pull', 'step:RUN']);
      expect(bytes.equals(first.get(name)!.bytes)).toBe(false);
      expect(bytes.length).toBeGreaterThan(10_000);
    }

    // The same work again: taken as they are.
    const again = await drydock(['build', '-c', p.dir], { env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('built 1 image, 0 steps executed');
    expect(caches(p.cache)).toEqual(second);
  });

  it('that V8 rejects is made again, and the build does not notice', async () => {
    const p = project();
    const env = { ...MIRROR, DRYDOCK_HOME: p.home };
    expect((await drydock(['build', '-c', p.dir], { env })).code).toBe(0);
    const garbage = Buffer.from('not V8 code cache data');
    for (const name of readdirSync(p.cache)) writeFileSync(join(p.cache, name), garbage);

    const r = await drydock(['build', '-c', p.dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('built 1 image, 0 steps executed');
    const remade = caches(p.cache);
    expect(remade.size).toBe(2);
    for (const { bytes } of remade.values()) expect(bytes.length).toBeGreaterThan(10_000);
  });

  it("loads core once: a config's `import 'drydock'` gets the executable's instance", async () => {
    const p = project();
    // Node's loader logs each file it loads; the core bundle is compiled by boot.ts, never by it.
    const r = await drydock(['graph', '-c', p.dir], { env: { NODE_DEBUG: 'module', DRYDOCK_HOME: p.home } });
    expect(r.code).toBe(0);
    const loads = r.stderr.split('\n').filter((l) => /^MODULE \d+: load "/.test(l));
    expect(loads.some((l) => l.includes('/cli/dist/index.cjs'))).toBe(true);
    expect(loads.filter((l) => /core\/dist\/bundle\.c?js/.test(l))).toEqual([]);
  });
});
