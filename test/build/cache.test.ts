/**
 * The cache, specified by counting executions: a change re-runs exactly the steps that depend on
 * it, nothing else; a no-op change re-runs nothing; a step that rebuilds to identical bytes stops
 * the invalidation there (early cutoff). Steps are named `image/stage#n` (n counts every node of
 * the stage, 1-based).
 */
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drydock } from '../e2e/helpers.js';
import { MIRROR_ENV, sandbox, type Sandbox } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/cache', import.meta.url));
const LARGE = fileURLToPath(new URL('./fixtures/large-context', import.meta.url));
/**
 * What an edit of src/b.txt re-runs: app#5 copies it (app#6 reads it) and gen#1 copies all of src/
 * (then gen#2 and app#3, COPY --from=gen, follow; they produce what they did before, so app#4 does not rerun).
 */
const AFTER_B_TXT = ['app/app#3', 'app/app#5', 'app/app#6', 'app/gen#1', 'app/gen#2'];

describe('the build cache, counted in executed steps', () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox(FIXTURE);
  });
  afterAll(async () => box?.remove());

  it('executes every file step of a cold build', async () => {
    const r = await box.build();
    expect(r.executed.sort()).toEqual(
      ['app/app#1', 'app/app#2', 'app/app#3', 'app/app#4', 'app/app#5', 'app/app#6', 'app/gen#1', 'app/gen#2'].sort(),
    );
  });

  it('executes nothing when nothing changed', async () => {
    expect((await box.build()).executed).toEqual([]);
  });

  it('executes nothing when a file is touched but not changed', async () => {
    const later = new Date(Date.now() + 60_000);
    for (const f of ['src/a.txt', 'src/b.txt']) await utimes(join(box.dir, f), later, later);
    expect((await box.build()).executed).toEqual([]);
  });

  it('executes nothing when an ignored file changes', async () => {
    await writeFile(join(box.dir, 'notes.log'), 'changed, but .dockerignore-d by the config\n');
    expect((await box.build()).executed).toEqual([]);
  });

  it('executes nothing when an arg no step uses changes', async () => {
    expect((await box.build({ args: { UNUSED: 'something else' } })).executed).toEqual([]);
  });

  it('re-runs exactly the steps after a changed COPY source', async () => {
    await writeFile(join(box.dir, 'src/b.txt'), 'charlie\n');
    expect((await box.build()).executed.sort()).toEqual(AFTER_B_TXT);
  });

  it('stops at a step whose output is byte-identical (early cutoff)', async () => {
    // Same length: gen's COPY changes, its RUN reruns and writes the same /count, so app's
    // COPY --from=gen reruns (its input stage changed) but yields the same layer: nothing after it
    // reruns. The bind-mount step reruns (its mounted input changed) with identical output, so the
    // step after it does not.
    await writeFile(join(box.dir, 'src/a.txt'), 'ALPHA\n');
    expect((await box.build()).executed.sort()).toEqual(['app/app#1', 'app/app#3', 'app/gen#1', 'app/gen#2']);
  });

  it('re-runs the steps that see a changed arg, and only those', async () => {
    // RUN steps see every arg their stage declares (as with BuildKit's ARG after FROM); COPY does not.
    expect((await box.build({ args: { USED: 'two' } })).executed.sort()).toEqual([
      'app/app#1',
      'app/app#2',
      'app/app#4',
      'app/app#6',
    ]);
  });

  it('executes every step again with noCache, and the result is the same image', async () => {
    const before = await box.build({ args: { USED: 'two' } });
    const again = await box.build({ args: { USED: 'two' }, noCache: true });
    expect(again.executed).toHaveLength(8);
    expect(again.images[0]!.manifestDigest).toBe(before.images[0]!.manifestDigest);
  });
});

describe('the build cache, when the context matches the walk record the last build left', () => {
  // A build that walks files older than the racy window (50 ms) records the walk; the next build
  // checks the context against that record instead of walking, selecting and hashing it.
  let box: Sandbox;
  let first: string;
  const records = async (): Promise<string[]> =>
    (await readdir(join(box.home, 'v1', 'stat-cache'))).filter((name) => name.endsWith('.walk'));
  beforeAll(async () => {
    box = await sandbox(FIXTURE);
    // The first build writes images.lock.json into the context, too fresh to be recorded.
    await box.build();
    await new Promise((r) => setTimeout(r, 80));
    first = (await box.build()).images[0]!.manifestDigest;
  });
  afterAll(async () => box?.remove());

  it('leaves a record, and a no-op build then executes nothing', async () => {
    expect(await records()).toHaveLength(1);
    expect((await box.build()).executed).toEqual([]);
  });

  it('walks the context when a step copies from it or binds it, and builds the same image', async () => {
    const again = await box.build({ noCache: true });
    expect(again.executed).toHaveLength(8);
    expect(again.images[0]!.manifestDigest).toBe(first);
  });

  it('re-runs the dependent steps after a same-size edit made right after a build', async () => {
    await box.build();
    await writeFile(join(box.dir, 'src/b.txt'), 'BRAVO\n');
    expect((await box.build()).executed.sort()).toEqual(AFTER_B_TXT);
  });
});

describe('the drydock executable, on a context whose record is checked by the worker thread', () => {
  // 2,500 files make a walk record over 128 KiB, which record-check.ts hands to its worker thread.
  let box: Sandbox;
  const build = async (): Promise<{ summary: string; digest: string }> => {
    const r = await drydock(['build', '-c', box.dir], { env: { ...MIRROR_ENV, DRYDOCK_HOME: box.home } });
    expect(r.code, r.stderr).toBe(0);
    const output = r.stdout + r.stderr;
    return {
      summary: /built \d+ images?, \d+ steps? executed/.exec(output)?.[0] ?? output,
      digest: /^files\s+(sha256:[0-9a-f]{64})/m.exec(r.stdout)?.[1] ?? '',
    };
  };
  beforeAll(async () => {
    box = await sandbox(LARGE, 'drydock-large-context-');
    for (let d = 0; d < 25; d++) {
      await mkdir(join(box.dir, 'files', `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) await writeFile(join(box.dir, 'files', `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`);
    }
    await new Promise((r) => setTimeout(r, 80)); // older than the racy window: the walk is recorded
  });
  afterAll(async () => box?.remove());

  let first = '';
  it('records the walk of a cold build, and the next build executes nothing', async () => {
    const cold = await build();
    expect(cold.summary).toBe('built 1 image, 1 step executed');
    first = cold.digest;
    const records = (await readdir(join(box.home, 'v1', 'stat-cache'))).filter((n) => n.endsWith('.walk'));
    expect(records).toHaveLength(1);
    expect((await stat(join(box.home, 'v1', 'stat-cache', records[0]!))).size).toBeGreaterThan(128 * 1024);
    expect(await build()).toEqual({ summary: 'built 1 image, 0 steps executed', digest: first });
    // That check is remembered for this command line: its next run asks the worker for it at start.
    expect(await readdir(join(box.home, 'v1', 'stat-cache', 'early'))).toHaveLength(1);
  });

  it('copies again after a same-size edit deep in the context, then is a no-op again', async () => {
    await writeFile(join(box.dir, 'files', 'd17', 'f42.txt'), 'FILE 17/42\n');
    const edited = await build();
    expect(edited.summary).toBe('built 1 image, 1 step executed');
    expect(edited.digest).not.toBe(first);
    expect(await build()).toEqual({ summary: 'built 1 image, 0 steps executed', digest: edited.digest });
  });
});
