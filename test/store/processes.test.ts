// Cross-process behaviour: real child processes (test/store/child.mjs) use the built store in
// core/dist, as a second drydock would. Run `npm run build` first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../core/src/store/index.js';
import { ls, useHome } from './helpers.js';

const home = useHome();
const CHILD = fileURLToPath(new URL('./child.mjs', import.meta.url));
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(fileURLToPath(new URL('../../core/dist/store/index.js', import.meta.url)))) {
    throw new Error('core/dist/store is missing: run `npm run build` first');
  }
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix`; rejects if the child exits first. */
  line(prefix: string): Promise<string>;
  exited: Promise<number | null>;
}

const start = (...args: string[]): Child => {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  const waiters: { prefix: string; resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const line = out.split('\n').find((l) => l.startsWith(waiter.prefix));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    check();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  void exited.then(() => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`child exited before "${waiter.prefix}": ${err}`));
  });
  return {
    process: child,
    exited,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        waiters.push({ prefix, resolve, reject });
        check();
      }),
  };
};

const kill9 = async (child: Child) => {
  child.process.kill('SIGKILL');
  await child.exited;
};

const open = () => Store.open({ root: home.dir, lockStaleMs: 2000 });

const expectCompleteTree = async (dir: string) => {
  expect(await ls(join(dir, 'sub'))).toHaveLength(20);
  for (let i = 0; i < 20; i++) expect(await readFile(join(dir, 'sub', `f${i}`), 'utf8')).toBe(`file ${i}\n`);
  expect((await lstat(join(dir, 'hard'))).ino).toBe((await lstat(join(dir, 'sub', 'f0'))).ino);
  expect((await lstat(join(dir, 'soft'))).isSymbolicLink()).toBe(true);
};

describe('two processes', () => {
  it('ensureSnapshot of the same id from two processes builds once, one complete dir', async () => {
    const store = await open();
    const log = join(home.dir, 'builds.log');
    const a = start('snapshot', home.dir, 'shared-id', log);
    const b = start('snapshot', home.dir, 'shared-id', log);
    await Promise.all([a.line('ready'), b.line('ready')]);
    a.process.stdin!.end('go\n');
    b.process.stdin!.end('go\n');
    const [doneA, doneB] = await Promise.all([a.line('done'), b.line('done')]);
    const path = join(store.paths.snapshots, 'shared-id');
    expect(doneA).toBe(`done ${path}`);
    expect(doneB).toBe(`done ${path}`);
    expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(1);
    expect(await ls(store.paths.snapshots)).toEqual(['shared-id']);
    await expectCompleteTree(path);
    expect(await ls(store.paths.tmp)).toEqual([]);
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
  });

  it('putBlob of the same content from two processes gives one blob and no leftovers', async () => {
    const store = await open();
    const size = 16 << 20;
    const a = start('blob', home.dir, String(size));
    const b = start('blob', home.dir, String(size));
    await Promise.all([a.line('ready'), b.line('ready')]);
    a.process.stdin!.end('go\n');
    b.process.stdin!.end('go\n');
    const digest = `sha256:${createHash('sha256').update(Buffer.alloc(size, 7)).digest('hex')}`;
    expect(await Promise.all([a.line('done'), b.line('done')])).toEqual([`done ${digest}`, `done ${digest}`]);
    expect(await ls(store.paths.blobs)).toEqual([digest.slice(7)]);
    expect(await store.statBlob(digest)).toEqual({ digest, size });
    expect(await ls(store.paths.tmp)).toEqual([]);
  });
});

describe('kill -9', () => {
  it('mid putBlob: no partial blob is visible; the stale lease is taken over; tmp is pruned', async () => {
    const store = await open();
    const child = start('blob-hang', home.dir);
    await child.line('mid');
    // The child really is mid-write: its temp file exists and holds data.
    const [partial] = await readdir(store.paths.tmp);
    expect(partial).toMatch(/^blob-/);
    expect((await lstat(join(store.paths.tmp, partial!))).size).toBeGreaterThan(0);
    await kill9(child);

    expect(await ls(store.paths.blobs)).toEqual([]);
    // prune needs the gc lock exclusively: the dead child's lease must go stale, not wedge us.
    const result = await store.prune({ keep: () => new Set(), tmpMaxAgeMs: 0 });
    expect(result.removedTmp).toEqual([partial]);
    expect(await ls(store.paths.tmp)).toEqual([]);
    const data = Buffer.alloc(1 << 20, 1);
    expect((await store.putBlob(Readable.from([data]))).size).toBe(data.length);
  });

  it('mid ensureSnapshot: no snapshot is visible; a new process takes the stale lock and builds it', async () => {
    const store = await open();
    const child = start('snapshot-hang', home.dir, 'layer');
    await child.line('mid');
    await kill9(child);
    expect(await ls(store.paths.snapshots)).toEqual([]);

    const log = join(home.dir, 'builds.log');
    const next = start('snapshot', home.dir, 'layer', log);
    await next.line('ready');
    next.process.stdin!.end('go\n');
    const done = await next.line('done');
    expect(done).toBe(`done ${join(store.paths.snapshots, 'layer')}`);
    await expectCompleteTree(join(store.paths.snapshots, 'layer'));
    expect(await ls(store.paths.snapshots)).toEqual(['layer']);
  });

  it('prune waits for a live build lease and proceeds once its holder is killed', async () => {
    const store = await open();
    await store.putBlob(Buffer.from('garbage'));
    const child = start('lease-hang', home.dir);
    await child.line('mid');
    let killedAt = Infinity;
    let keptAt = 0;
    const pruning = store.prune({
      keep: () => {
        keptAt = Date.now();
        return new Set();
      },
    });
    // Give a wrong prune ample chance to run while the lease is live (not an assertion by itself).
    await new Promise((r) => setTimeout(r, 500));
    killedAt = Date.now();
    await kill9(child);
    const result = await pruning;
    expect(keptAt).toBeGreaterThanOrEqual(killedAt);
    expect(result.removedBlobs).toHaveLength(1);
  });
});
