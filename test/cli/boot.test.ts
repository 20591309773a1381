/**
 * loadBundle (core/src/boot.ts): a CommonJS bundle compiled from a V8 code cache. V8's cached code
 * carries the script's file name, so two copies of one bundle at two paths must not share a cache:
 * the second would report the first one's path in its stack frames (drydock locates config errors
 * by skipping its own frames, found by path).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBundle, noteCodeAreas, saveCodeCaches } from '../../core/src/boot.js';

const root = mkdtempSync(join(tmpdir(), 'drydock-boot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SOURCE = "module.exports = () => new Error('here').stack.split('\\n')[1];\n";

function copyAt(name: string): string {
  mkdirSync(join(root, name));
  const file = join(root, name, 'bundle.cjs');
  writeFileSync(file, SOURCE);
  return file;
}

describe('a bundle loaded through the code cache', () => {
  it('names its own file in stack frames, also when a copy elsewhere was cached first', () => {
    const cache = join(root, 'code-cache');
    const first = copyAt('first');
    const frame = loadBundle(first, cache) as () => string;
    expect(frame()).toContain(`${first}:1:`);
    saveCodeCaches();
    expect(readdirSync(cache)).toHaveLength(1);

    const second = copyAt('second');
    const again = loadBundle(second, cache) as () => string;
    expect(again()).toContain(`${second}:1:`);
    saveCodeCaches();
    // Each path has its cache; neither replaces the other.
    expect(readdirSync(cache)).toHaveLength(2);
  });

  it('is one instance: a later require of the file gets what loadBundle loaded', async () => {
    const file = copyAt('instance');
    const loaded = loadBundle(file, join(root, 'code-cache'));
    const { createRequire } = await import('node:module');
    expect(createRequire(file)(file)).toBe(loaded);
  });

  it('is written again only by a run that did a kind of work the writer did not', async () => {
    const cache = join(root, 'areas-cache');
    const file = copyAt('areas');
    const { createRequire } = await import('node:module');
    // A fresh process's load of the bundle, as far as loadBundle can tell.
    const load = (): void => {
      delete createRequire(file).cache[file];
      loadBundle(file, cache);
    };
    const written = (): { line: string; mtimeMs: number } => {
      const [name] = readdirSync(cache);
      const bytes = readFileSync(join(cache, name!));
      return {
        line: bytes.toString('latin1', 0, bytes.indexOf(10)).trimEnd(),
        mtimeMs: statSync(join(cache, name!)).mtimeMs,
      };
    };

    load();
    noteCodeAreas('areas-test:pull');
    saveCodeCaches();
    const first = written();
    expect(first.line).toBe('drydock-code-cache\tareas-test:pull');

    // Loaded from that cache, the same work: not written.
    load();
    saveCodeCaches();
    expect(written()).toEqual(first);

    // Another kind of work: written with both.
    load();
    noteCodeAreas('areas-test:run');
    saveCodeCaches();
    expect(written().line).toBe('drydock-code-cache\tareas-test:pull,areas-test:run');
  });

  it("removes the temporary files of writers that died, and no live writer's", async () => {
    const cache = join(root, 'tmp-cache');
    const file = copyAt('tmp-leftovers');
    loadBundle(file, cache);
    noteCodeAreas('tmp-test:first');
    saveCodeCaches();
    const [bin] = readdirSync(cache);
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync('true').pid;
    writeFileSync(join(cache, `${bin}.${dead}-0badc0de.tmp`), 'torn');
    writeFileSync(join(cache, `${bin}.${process.pid}-0badc0de.tmp`), 'being written');

    // The next write of that bundle's cache (this run did another kind of work) tidies up.
    noteCodeAreas('tmp-test:second');
    saveCodeCaches();
    expect(readdirSync(cache).sort()).toEqual([bin, `${bin}.${process.pid}-0badc0de.tmp`]);
  });
});
