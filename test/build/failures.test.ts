/**
 * Failures stay where they happen: a failing step stops the stages and images that need it, and
 * nothing else; a build killed mid-step leaves the store usable with everything finished still
 * cached; the errors a user can fix are one line and exit 1.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, drydock, exec, waitFor } from '../e2e/helpers.js';
import { MIRROR_ENV, sandbox, type Sandbox } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/failures', import.meta.url));

describe('a failing step', () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox(FIXTURE, 'drydock-failures-');
  });
  afterAll(async () => box?.remove());

  it('fails its image with one message naming the step, exit code and output; other images build', async () => {
    const r = await drydock(['build', 'good', 'bad', '-c', box.dir], {
      env: { ...MIRROR_ENV, DRYDOCK_HOME: box.home },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^good\s+sha256:[0-9a-f]{64}/m);
    expect(r.stdout).not.toMatch(/^bad\s/m);
    expect(r.stderr).toContain(
      'drydock: error: bad/broken step 2 (RUN echo "this step fails" && exit 7): exited with code 7',
    );
    expect(r.stderr).toContain('this step fails');
  });

  it('does not stop a stage of the same image that does not need it', async () => {
    // `fine` ran to completion in the failed build: now it is cached, and the first step of broken too.
    await expect(box.build({ images: ['bad'] })).rejects.toThrow(/exited with code 7/);
    const r = await box.build({ images: ['good'] });
    expect(r.executed).toEqual([]);
    const failed = await drydock(['build', 'bad', '-c', box.dir, '--progress', 'plain'], {
      env: { ...MIRROR_ENV, DRYDOCK_HOME: box.home },
    });
    expect(failed.stderr).toMatch(/\[bad\/fine 1\/1\] CACHED RUN echo fine/);
    expect(failed.stderr).toMatch(/\[bad\/broken 1\/2\] CACHED RUN echo broken/);
  });
});

describe('an arg that gives an instruction a value it cannot take', () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox(FIXTURE, 'drydock-bad-value-');
  });
  afterAll(async () => box?.remove());

  it('fails the image at that instruction, naming the value and what is allowed', async () => {
    const env = { ...MIRROR_ENV, DRYDOCK_HOME: box.home };
    const r = await drydock(['build', 'ports', '-c', box.dir, '--arg', 'PORTS=80 http'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'drydock: error: ports/ports step 1 (EXPOSE ${PORTS}): expose "http": not a port or port range (0-65535), optionally with /tcp, /udp or /sctp',
    );
    // Several ports and a range, as BuildKit reads them.
    expect((await drydock(['build', 'ports', '-c', box.dir, '--arg', 'PORTS=80 81-82/UDP'], { env })).code).toBe(0);
  });
});

describe('an interrupted build', () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox(FIXTURE, 'drydock-interrupt-');
  });
  afterAll(async () => box?.remove());

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`(${signal}) leaves the store usable, with the steps that finished cached`, async () => {
      const env = { ...process.env, ...MIRROR_ENV, DRYDOCK_HOME: box.home };
      // A duration no other process on the host sleeps for, so that the check below sees this step's alone.
      const child = spawn(CLI, ['build', 'slow', '-c', box.dir, '--progress', 'plain', '--arg', 'SLEEP=6017'], { env });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      await waitFor('the slow step to start', async () =>
        /\[slow\/slow 1\/1\] RUN sleep/.test(err) ? true : undefined,
      );
      child.kill(signal);
      const code = await exited;
      if (signal === 'SIGINT') {
        expect(code).toBe(130);
        expect(err).toContain('drydock: build cancelled');
      }
      // The next build reaps what a killed one left (its container, its mounts, its temp files).
      const again = await box.build({ images: ['good'] });
      expect(again.images).toHaveLength(1);
      const ps = await exec('ps', ['-eo', 'args']);
      expect(ps.stdout).not.toMatch(/^sleep 6017$/m);
      const quick = await drydock(['build', 'slow', '-c', box.dir, '--progress', 'plain', '--arg', 'SLEEP=0'], {
        env: { ...MIRROR_ENV, DRYDOCK_HOME: box.home },
      });
      expect(quick.code).toBe(0);
      expect(quick.stderr).toMatch(/\[slow\/first 1\/1\] CACHED RUN echo first/);
      // Nothing half-written is visible: every record parses, every blob verifies (store tests cover the rest).
      expect(JSON.parse(await readFile(join(box.dir, 'images.lock.json'), 'utf8')).version).toBe(1);
    }, 60_000);
  }
});
