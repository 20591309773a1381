/**
 * The walk record: what a walk saw, so that the next build can check a context without walking,
 * selecting or hashing it. It must see every change a walk would see (names, types, modes, sizes,
 * times, link targets) and none that the ignore rules hide; and a walk taken within a timestamp
 * tick of a file's change is never recorded. A check lists a directory again only when its times
 * cannot vouch for its names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Matcher, parseDockerignore, walkContext, WalkRecord } from '../../core/src/context/index.js';
import type { CheckReply, CheckRequest } from '../../core/src/context/record-check.js';
import { DOCKERIGNORE, makeFixture } from './fixture.js';

const matcher = new Matcher(parseDockerignore(DOCKERIGNORE));
const KEY = 'test-key';
const roots: string[] = [];

afterEach(async () => {
  for (const root of roots.splice(0)) await rm(join(root, '..'), { recursive: true, force: true });
});

/** Longer than the racy window (50 ms): files written before it are no longer racily clean. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 80));

async function recorded(digests = new Map<string, string>()): Promise<{ ctx: string; record: WalkRecord }> {
  const ctx = await makeFixture();
  roots.push(ctx);
  await settle();
  const record = WalkRecord.of(await walkContext(ctx, matcher), KEY, digests);
  if (!record) throw new Error('expected a record of a settled tree');
  return { ctx, record };
}

describe('WalkRecord', () => {
  it('matches the tree it was made from', async () => {
    const { ctx, record } = await recorded();
    expect(await record.matches(ctx, matcher)).toBe(true);
  });

  const changes: [string, (ctx: string) => Promise<void>][] = [
    ['a file rewritten with the same size', (ctx) => writeFile(join(ctx, 'b.txt'), 'CONTENT OF b.txt\n')],
    ['a file touched', (ctx) => utimes(join(ctx, 'b.txt'), new Date(), new Date())],
    ['a mode changed', (ctx) => chmod(join(ctx, 'exec.sh'), 0o700)],
    ['a directory mode changed', (ctx) => chmod(join(ctx, 'emptydir'), 0o755)],
    ['a file added', (ctx) => writeFile(join(ctx, 'dir', 'new'), 'new\n')],
    ['a file removed', (ctx) => unlink(join(ctx, 'dir', 'x'))],
    ['a file re-included by an exception changed', (ctx) => writeFile(join(ctx, 'dir/sub/keep'), 'changed\n')],
    [
      'a symlink retargeted',
      async (ctx) => {
        await unlink(join(ctx, 'flink'));
        await symlink('exec.sh', join(ctx, 'flink'));
      },
    ],
    [
      'a file replaced by a directory of the same name',
      async (ctx) => {
        await unlink(join(ctx, 'dir/x'));
        await mkdir(join(ctx, 'dir/x'));
      },
    ],
  ];
  for (const [what, change] of changes) {
    it(`does not match after ${what}`, async () => {
      const { ctx, record } = await recorded();
      await change(ctx);
      expect(await record.matches(ctx, matcher)).toBe(false);
    });
  }

  it('still matches after changes the ignore rules hide', async () => {
    const { ctx, record } = await recorded();
    await writeFile(join(ctx, 'ignored.txt'), 'changed, and ignored\n');
    await writeFile(join(ctx, 'dir/y.log'), 'changed, and ignored\n');
    await writeFile(join(ctx, 'new.tmp'), 'new, and ignored\n');
    expect(await record.matches(ctx, matcher)).toBe(true);
  });

  it('lists only the root and the directories that changed within a tick of the walk', async () => {
    const { ctx, record } = await recorded();
    const seen = { listed: 0 };
    expect(await record.matches(ctx, matcher, seen)).toBe(true);
    expect(seen.listed).toBe(1);

    // `dir` loses an entry just before the walk: its times cannot vouch for its listing.
    await unlink(join(ctx, 'dir', 'x'));
    const racy = WalkRecord.of(await walkContext(ctx, matcher), KEY, new Map())!;
    const again = { listed: 0 };
    expect(await racy.matches(ctx, matcher, again)).toBe(true);
    expect(again.listed).toBe(2);
  });

  it('is not made from a walk that saw a racily clean file', async () => {
    const ctx = await makeFixture();
    roots.push(ctx);
    await settle();
    await writeFile(join(ctx, 'b.txt'), 'just written\n');
    expect(WalkRecord.of(await walkContext(ctx, matcher), KEY, new Map())).toBeUndefined();
  });

  it('keeps its digests through save and load, for its own key only', async () => {
    const digests = new Map([['copy\0{"sources":["."]}', `sha256:${'a'.repeat(64)}`]]);
    const { ctx, record } = await recorded(digests);
    const file = join(ctx, '..', 'record.walk');
    await record.save(file);
    const loaded = await WalkRecord.load(file, KEY);
    expect(loaded?.digests).toEqual(digests);
    expect(await loaded!.matches(ctx, matcher)).toBe(true);
    expect(await WalkRecord.load(file, 'another-key')).toBeUndefined();
  });

  it('is no record when its file is torn or missing', async () => {
    const { ctx, record } = await recorded();
    const file = join(ctx, '..', 'record.walk');
    await record.save(file);
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 3));
    expect(await WalkRecord.load(file, KEY)).toBeUndefined();
    expect(await WalkRecord.load(join(ctx, '..', 'none.walk'), KEY)).toBeUndefined();
  });

  it('gets the same answers from the bundled worker thread (core/dist/record-worker.js)', async () => {
    const digests = new Map([['copy\0{"sources":["."]}', `sha256:${'b'.repeat(64)}`]]);
    const { ctx, record } = await recorded(digests);
    const file = join(ctx, '..', 'record.walk');
    await record.save(file);
    const worker = new Worker(fileURLToPath(new URL('../../core/dist/record-worker.js', import.meta.url)));
    const ask = (request: CheckRequest): Promise<CheckReply> =>
      new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage(request);
      });
    const niced = () => threadNiceValues().filter((nice) => nice === 10).length;
    const before = niced();
    try {
      const request = { dir: ctx, patterns: parseDockerignore(DOCKERIGNORE), file, key: KEY };
      expect(await ask({ ...request, id: 1 })).toEqual({ id: 1, digests: [...digests] });
      // It runs at nice 10, and it alone: the build's own steps come first.
      expect(niced()).toBe(before + 1);
      expect(threadNiceValues()[0]).toBe(0);
      expect(await ask({ ...request, id: 2, key: 'another-key' })).toEqual({ id: 2, digests: undefined });
      await writeFile(join(ctx, 'b.txt'), 'CONTENT OF b.txt\n');
      expect(await ask({ ...request, id: 3 })).toEqual({ id: 3, digests: undefined });
    } finally {
      await worker.terminate();
    }
    expect(niced()).toBe(before);
  });
});

/** The nice value of each thread of this process, this one (the main thread) first. */
function threadNiceValues(): number[] {
  const tids = readdirSync('/proc/self/task').sort((a, b) =>
    a === String(process.pid) ? -1 : b === String(process.pid) ? 1 : 0,
  );
  // /proc/<pid>/task/<tid>/stat: "tid (comm) state …", the nice value is its 19th field.
  return tids.map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
}
