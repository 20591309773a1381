/**
 * `drydock build --watch`, end to end: the real CLI on a real project, real files edited, builds
 * on the native engine (runc, overlayfs), containers under runc for --run. No sleeps as
 * assertions: every wait is for an event, and "nothing was built" is shown by the cycle number the
 * next real change gets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIRROR_ENV } from '../build/helpers.js';
import { CLI, freePort, httpGet, requireBench, waitFor } from '../e2e/helpers.js';
import { isFinished, project, type Event, type Project, type Watching } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/app', import.meta.url));

let p: Project;
let w: Watching;

beforeAll(async () => {
  await requireBench();
  p = await project(FIXTURE);
});
afterAll(async () => {
  await w?.stop();
  await p?.remove();
});

const write = (rel: string, text: string): void => writeFileSync(join(p.dir, rel), text);

describe('drydock build --watch app', () => {
  let first: Event;

  beforeAll(async () => {
    w = await p.watch(['app']);
    first = await w.next(isFinished('app'));
    await w.next((e) => e.event === 'watching' && (e.paths as string[]).includes(p.dir));
  });

  it('builds once at start, every step executed', () => {
    expect(first.cycle).toBe(1);
    expect(first.rebuilt).toEqual(['app#1', 'app#2', 'app#3']);
    expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('an edit to a COPY’d file rebuilds exactly its dependents, and reports where the time went', async () => {
    const from = w.events.length;
    write('input.txt', 'two\n');
    const done = await w.next(isFinished('app'), { from });
    expect(done.rebuilt).toEqual(['app#2', 'app#3']); // not the COPY of many/ before it
    expect(done.digest).not.toBe(first.digest);
    const timings = done.timings as Record<string, number>;
    expect(Object.keys(timings)).toEqual(['waitMs', 'hashMs', 'solveMs', 'layerMs', 'exportMs', 'restartMs']);
    for (const [part, ms] of Object.entries(timings)) {
      expect(Number.isInteger(ms), part).toBe(true);
      expect(ms, part).toBeGreaterThanOrEqual(0);
      expect(ms, part).toBeLessThanOrEqual(done.durationMs as number);
    }
    // This cycle wrote two layers (the COPY and the RUN) and solved them: neither part can be zero.
    expect(timings.layerMs).toBeGreaterThan(0);
    expect(timings.solveMs).toBeGreaterThan(0);
  });

  it('an ignored file or a file no step reads triggers nothing', async () => {
    const from = w.events.length;
    const last = w.events.filter((e) => e.event === 'build-finished').at(-1)!.cycle as number;
    write('ignored.txt', 'changed\n');
    write('notes.md', 'changed\n');
    write('input.txt', 'three\n');
    // The next cycle is the one for input.txt, and it saw nothing else.
    const change = await w.next((e) => e.event === 'change', { from });
    expect(change.cycle).toBe(last + 1);
    expect(change.paths).toEqual([join(p.dir, 'input.txt')]);
    await w.next(isFinished('app', last + 1), { from });
  });

  it('200 files written at once make one build', async () => {
    const from = w.events.length;
    for (let i = 0; i < 200; i++) write(`many/burst-${String(i).padStart(3, '0')}.txt`, `burst ${i}\n`);
    const done = await w.next(isFinished('app'), { from });
    expect(done.rebuilt).toEqual(['app#1', 'app#2', 'app#3']);
    const changes = w.events.slice(from).filter((e) => e.event === 'change');
    expect(changes).toHaveLength(1);
    expect(changes[0]!.paths as string[]).toHaveLength(200);
    // And no second build trails it: the next change is the very next cycle.
    const after = w.events.length;
    write('input.txt', 'four\n');
    expect((await w.next((e) => e.event === 'change', { from: after })).cycle).toBe((done.cycle as number) + 1);
    await w.next(isFinished('app', (done.cycle as number) + 1), { from: after });
  });

  it('a deleted input fails the build; re-created, the build comes back from the cache', async () => {
    const before = w.events.filter((e) => e.event === 'build-finished').at(-1)!;
    let from = w.events.length;
    rmSync(join(p.dir, 'input.txt'));
    const failed = await w.next((e) => e.event === 'build-failed', { from });
    expect(failed.error).toMatch(/input\.txt/);
    from = w.events.length;
    write('input.txt', 'four\n');
    const back = await w.next(isFinished('app'), { from });
    expect(back.digest).toBe(before.digest);
    expect(back.rebuilt).toEqual([]);
  });

  it('a config error is reported and the watch goes on; the fix rebuilds', async () => {
    const previous = w.events.filter((e) => e.event === 'build-finished').at(-1)!;
    const config = join(p.dir, 'images.config.ts');
    const good = (await import('node:fs')).readFileSync(config, 'utf8');
    let from = w.events.length;
    writeFileSync(config, good.replace("cmd: ['cat', '/app/copy.txt'],", "cmd: ['cat', '/app/copy.txt'"));
    const error = await w.next((e) => e.event === 'config-error', { from });
    expect(error.error).toMatch(/images\.config\.ts/);
    from = w.events.length;
    writeFileSync(config, good.replace("cmd: ['cat', '/app/copy.txt'],", "cmd: ['cat', '/app/input.txt'],"));
    const done = await w.next(isFinished('app'), { from });
    expect(w.events.slice(from).some((e) => e.event === 'config-reloaded')).toBe(true);
    expect(done.rebuilt).toEqual([]); // only the image config changed
    expect(done.digest).not.toBe(previous.digest); // and the new CMD is in the image
  });

  it('flushes the snapshots its rebuilds wrote once it is idle, and when it stops (no marks left)', async () => {
    const marks = join(p.home, 'v1', 'unsynced', readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    const from = w.events.length;
    write('input.txt', 'marked\n');
    await w.next(isFinished('app'), { from });
    // Snapshots were marked as not yet on disk (the directory is made for the first mark)...
    expect(existsSync(marks)).toBe(true);
    // ...and a moment of quiet flushes them.
    await waitFor('the idle flush', async () => (readdirSync(marks).length === 0 ? true : undefined), 15_000);
    write('input.txt', 'marked again\n');
    await w.next(isFinished('app'), { from: w.events.length });
    const { code } = await w.stop();
    expect(code).toBe(130);
    expect(readdirSync(marks)).toEqual([]);
  });
});

describe('on a terminal', () => {
  it('keeps one live status line per cycle: building, then ok in N ms', async () => {
    // script(1) gives drydock a pseudo-terminal, as a developer's shell would.
    const cmd = `${CLI} build app --watch`;
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], {
      cwd: p.dir,
      env: { ...process.env, ...MIRROR_ENV, DRYDOCK_HOME: p.home, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const seen = (re: RegExp) =>
      waitFor(`${re} on the terminal`, async () => (re.test(screen) ? true : undefined), 120_000);
    try {
      await seen(/app: ok in \d+ ms/);
      const before = screen.length;
      write('input.txt', 'from the terminal\n');
      await waitFor('a second cycle', async () => (/app: building/.test(screen.slice(before)) ? true : undefined));
      await waitFor('its result', async () => (/app: ok in \d+ ms/.test(screen.slice(before)) ? true : undefined));
      // The status line is redrawn in place (carriage return, erase line), not appended.
      expect(screen).toContain('\r\u001b[Kapp: ');
    } finally {
      child.kill('SIGINT');
      // The launcher execs node on bin/drydock.cjs.
      spawnSync('pkill', ['-INT', '-f', `${CLI}.cjs build app --watch`]);
    }
  });
});

describe('drydock build --watch app --on-build CMD', () => {
  it('runs the command after each successful build, with the image and its digest', async () => {
    w = await p.watch(['app', '--on-build', 'echo "built $DRYDOCK_IMAGE $DRYDOCK_DIGEST"']);
    const first = await w.next(isFinished('app'), { timeoutMs: 120_000 });
    const out = await w.next((e) => e.event === 'hook-output');
    expect(out.text).toBe(`built app ${first.digest as string}\n`);
    await w.next((e) => e.event === 'hook-exited' && e.exitCode === 0);
    expect((await w.stop()).code).toBe(130);
  });
});

describe('drydock build --watch slow --run', () => {
  it('an edit during a RUN cancels the stale build; the container shows the last edit', async () => {
    w = await p.watch(['slow', '--run']);
    await w.next((e) => e.event === 'container-output' && e.text === 'slow one\n', { timeoutMs: 120_000 });
    await w.next((e) => e.event === 'watching' && (e.paths as string[]).includes(p.dir));
    let from = w.events.length;
    write('slow.txt', 'slow two\n');
    // The RUN step (sleep 4) is running when the next edit lands.
    await w.next((e) => e.event === 'step' && e.state === 'running' && e.index === 2, { from });
    from = w.events.length;
    write('slow.txt', 'slow three\n');
    await w.next((e) => e.event === 'build-cancelled', { from });
    const done = await w.next(isFinished('slow'), { from });
    expect(done.rebuilt).toEqual(['slow#1', 'slow#2']);
    await w.next((e) => e.event === 'container-output' && e.text === 'slow three\n', { from });
    expect(w.events.some((e) => e.event === 'container-output' && e.text === 'slow two\n')).toBe(false);
    expect((await w.stop()).code).toBe(130);
  });
});

describe('drydock build --watch site --run', () => {
  it('serves the new content after a rebuild', async () => {
    const port = await freePort();
    w = await p.watch(['site', '--run', '--arg', `PORT=${port}`]);
    await w.next((e) => e.event === 'container-started', { timeoutMs: 120_000 });
    const url = `http://127.0.0.1:${port}/index.html`;
    expect(await waitFor('site v1', async () => (await httpGet(url).catch(() => undefined))?.body)).toContain('v1');
    const from = w.events.length;
    write('www/index.html', '<h1>v2</h1>\n');
    await w.next(isFinished('site'), { from });
    await w.next((e) => e.event === 'container-started', { from });
    const body = await waitFor('site v2', async () => {
      const reply = await httpGet(url).catch(() => undefined);
      return reply?.body.includes('v2') ? reply.body : undefined;
    });
    expect(body).toContain('<h1>v2</h1>');
    expect((await w.stop()).code).toBe(130);
    // Stopped with the watch: nothing listens any more.
    await expect(httpGet(url, 2000)).rejects.toThrow();
  });
});
