/**
 * Host tools started through the spawn helper (core/src/host/spawn.ts), as a watch session starts
 * them: the same output, exit codes, signals and errors as a spawn of this process's own, from a
 * process that is not this one. Uses the built helper (`npm run build` first; `npm test` does).
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTool, startSpawnHelper, type ToolProcess } from '../../core/dist/host/spawn.js';

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error & { code?: string };
}

function ended(tool: ToolProcess): Promise<Ended> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    tool.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    tool.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    tool.on('error', (error: Error) => resolve({ code: null, signal: null, stdout, stderr, error }));
    tool.on('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal, stdout, stderr }));
  });
}

const helperState = () =>
  (globalThis as Record<symbol, unknown>)[Symbol.for('drydock.spawn-helper')] as {
    helper: ChildProcess | undefined;
    unavailable: boolean;
  };

describe('the spawn helper', () => {
  beforeAll(() => startSpawnHelper());
  afterAll(() => helperState().helper?.kill());

  it('runs a tool from its own process, with its output and exit code', async () => {
    const helper = helperState().helper!;
    expect(helper.pid).toBeGreaterThan(0);
    const run = await ended(spawnTool('sh', ['-c', 'echo "parent $PPID"; echo oops >&2; exit 3']));
    expect(run).toEqual({ code: 3, signal: null, stdout: `parent ${helper.pid}\n`, stderr: 'oops\n' });
  });

  it('gives the tool its input on stdin, and binary output back byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const tool = spawnTool('sh', ['-c', 'cat; printf "\\000\\001\\002\\376\\377" >&2'], { input: 'some input' });
    const chunks: Buffer[] = [];
    tool.stderr.on('data', (d: Buffer) => chunks.push(d));
    const run = await ended(tool);
    expect(run.stdout).toBe('some input');
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    expect(Buffer.isBuffer(chunks[0])).toBe(true);
  });

  it('runs the tool in the working directory it is given', async () => {
    expect(await ended(spawnTool('pwd', [], { cwd: '/usr/share' }))).toMatchObject({ code: 0, stdout: '/usr/share\n' });
  });

  it('signals a running tool', async () => {
    const tool = spawnTool('sleep', ['30']);
    await new Promise((r) => tool.once('spawn', r));
    tool.kill('SIGTERM');
    expect(await ended(tool)).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  it('reports a tool that is not installed as a spawn error (ENOENT)', async () => {
    const run = await ended(spawnTool('drydock-no-such-tool', []));
    expect(run.error?.code).toBe('ENOENT');
  });

  it('when it dies, what it was running fails, and tools run from this process after', async () => {
    const tool = spawnTool('sleep', ['3']);
    await new Promise((r) => tool.once('spawn', r));
    helperState().helper!.kill('SIGKILL');
    const run = await ended(tool);
    expect(run.error?.message).toBe('the spawn helper process exited');
    expect(helperState()).toMatchObject({ helper: undefined, unavailable: true });
    const after = await ended(spawnTool('sh', ['-c', 'echo $PPID']));
    expect(after.stdout).toBe(`${process.pid}\n`);
  });
});
