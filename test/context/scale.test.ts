/**
 * 20,000 files: the walk, the selection and the digests stay correct at scale, and a warm build
 * reads no file. Timings are printed for the record, never asserted.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Matcher, StatCache, digestSelection, selectSources, walkContext } from '../../core/src/context/index.js';

const DIRS = 200;
const PER_DIR = 100;
let root: string;
let ctx: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'drydock-scale-'));
  ctx = join(root, 'ctx');
  // Synchronous writes: 20,000 small files this way take a fraction of the async time.
  for (let d = 0; d < DIRS; d++) {
    const dir = join(ctx, `pkg${d}`, 'src');
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < PER_DIR; f++)
      writeFileSync(join(dir, `f${f}.${f % 10 === 0 ? 'log' : 'ts'}`), `// ${d}/${f}\n`);
  }
  await mkdir(join(ctx, 'node_modules/dep'), { recursive: true });
  await writeFile(join(ctx, 'node_modules/dep/index.js'), '\n');
  // Past the stat cache's racy window, so the first digest can be remembered.
  await new Promise((r) => setTimeout(r, 80));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const ms = (t: bigint) => (Number(process.hrtime.bigint() - t) / 1e6).toFixed(0);

describe('a 20,000-file context', () => {
  it('is walked, selected and hashed; the warm run reads nothing', async () => {
    const matcher = new Matcher(['node_modules', '**/*.log']);
    const cacheFile = join(root, 'stat-cache.json');
    const run = async () => {
      let t = process.hrtime.bigint();
      const cache = await StatCache.load(cacheFile);
      const load = ms(t);
      t = process.hrtime.bigint();
      const index = await walkContext(ctx, matcher);
      const walk = ms(t);
      t = process.hrtime.bigint();
      const selection = selectSources(index, { sources: ['.'], dest: '/app/' });
      const select = ms(t);
      t = process.hrtime.bigint();
      const result = await digestSelection(ctx, selection, cache, index);
      const digest = ms(t);
      t = process.hrtime.bigint();
      await cache.save();
      const save = ms(t);
      console.log(
        `load cache ${load} ms, walk ${walk} ms, select ${select} ms, digest ${digest} ms (${result.filesRead} read), save ${save} ms`,
      );
      return { selection, result };
    };
    const cold = await run();
    const files = DIRS * PER_DIR * 0.9;
    expect(cold.selection.filter((e) => e.type === 'file')).toHaveLength(files);
    // '', then pkgN and pkgN/src for each package
    expect(cold.selection.filter((e) => e.type === 'dir')).toHaveLength(1 + DIRS * 2);
    expect(cold.result.filesRead).toBe(files);
    const warm = await run();
    expect(warm.result).toEqual({ ...cold.result, filesRead: 0, bytesRead: 0 });
  });
});
