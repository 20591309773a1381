/**
 * User errors: every diagnostic on one line with its file relative to the cwd, a summary line,
 * exit 1, never a stack. Colors only on a terminal and never with NO_COLOR or --no-color.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, cleanEnv, drydock, errorLines, fixtures } from './helpers.js';

const basic = join(fixtures, 'basic');
const broken = join(fixtures, 'broken');
const stack = /^\s+at .+:\d+/m;

describe.concurrent('--arg values are checked against their declared types', () => {
  it('an enum value outside the list names the allowed values', async () => {
    const run = await drydock(['graph', '-c', basic, '--arg', 'NODE_VERSION=21']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const [line, ...rest] = errorLines(run.stderr);
    expect(rest).toEqual([]);
    expect(line).toMatch(/error DD130: .*NODE_VERSION=21/);
    expect(line).toContain('20');
    expect(line).toContain('22');
    expect(run.stderr.trimEnd().split('\n').at(-1)).toBe('1 error');
  });

  it('every bad --arg is reported, with the int range, the pattern and unknown names', async () => {
    const run = await drydock([
      'ls',
      ...['-c', basic, '--arg', 'PORT=70000', '--arg', 'REGION=EU', '--arg', 'DEBUG=yes', '--arg', 'NODE_VERSON=20'],
    ]);
    expect(run.code).toBe(1);
    const lines = errorLines(run.stderr);
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.includes('PORT=70000'))).toMatch(/1.*65535/);
    expect(lines.find((l) => l.includes('REGION=EU'))).toContain('[a-z]+-[0-9]');
    expect(lines.find((l) => l.includes('DEBUG=yes'))).toMatch(/true or false/);
    expect(lines.find((l) => l.includes('NODE_VERSON'))).toMatch(/DD131.*NODE_VERSION/);
    expect(run.stderr).toContain('4 errors');
  });

  it('a valid --arg is used', async () => {
    const run = await drydock(['graph', '-c', basic, '--arg', 'NODE_VERSION=20', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const graph = JSON.parse(run.stdout) as { args: { name: string; value?: string; given: boolean }[] };
    expect(graph.args.find((a) => a.name === 'NODE_VERSION')).toMatchObject({ value: '20', given: true });
  });
});

describe.concurrent('config errors', () => {
  it('prints every diagnostic of a config with several problems, then the count', async () => {
    for (const command of ['graph', 'emit', 'ls', 'check']) {
      const run = await drydock([command, '-c', broken]);
      expect(run.code, command).toBe(1);
      expect(run.stdout).toBe('');
      const lines = errorLines(run.stderr);
      expect(lines.map((l) => /DD\d+/.exec(l)![0])).toEqual(['DD133', 'DD110', 'DD110', 'DD110']);
      expect(run.stderr.trimEnd().split('\n')).toEqual([...lines, '4 errors']);
      expect(run.stderr).not.toMatch(stack);
    }
  });

  it('names files relative to the working directory, with line and column', async () => {
    const fromRoot = errorLines((await drydock(['graph', '-c', broken])).stderr);
    expect(fromRoot[0]).toMatch(/^test\/cli\/fixtures\/broken\/images\.config\.mjs:\d+:\d+: error DD133: /);
    const fromInside = errorLines((await drydock(['graph'], { cwd: broken })).stderr);
    expect(fromInside[0]).toMatch(/^images\.config\.mjs:\d+:\d+: error DD133: /);
  });

  it('a config that throws while loading is a located DD101, without a stack', async () => {
    const run = await drydock(['graph', '-c', join(fixtures, 'throws')]);
    expect(run.code).toBe(1);
    expect(errorLines(run.stderr)).toEqual([expect.stringMatching(/images\.config\.ts:4:\d+: error DD101: .*JSON/)]);
    expect(run.stderr).not.toMatch(stack);
    expect(run.stderr).not.toContain('drydock bug');
  });

  it('a missing config is DD100', async () => {
    const run = await drydock(['check', '-c', join(fixtures, 'no-such-project')]);
    expect(run.code).toBe(1);
    expect(errorLines(run.stderr)).toEqual([expect.stringContaining('DD100')]);
  });

  it('an unknown image is DD150 naming the images there are', async () => {
    for (const command of ['graph', 'emit', 'ls']) {
      const run = await drydock([command, '-c', basic, 'api', 'wbe']);
      expect(run.code, command).toBe(1);
      expect(errorLines(run.stderr)).toEqual([expect.stringMatching(/DD150: .*"wbe".*api, web/)]);
    }
  });
});

describe('colors', () => {
  /** Runs the CLI under `script`, so that stdout and stderr are a terminal. */
  function onTerminal(args: string[], env: Record<string, string> = {}): string {
    const command = [bin, ...args].map((a) => `'${a}'`).join(' ');
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { env: cleanEnv(env), encoding: 'utf8' });
    if (result.error) throw result.error;
    return result.stdout;
  }
  const escape = '\u001b[';

  it('are used on a terminal', () => {
    const out = onTerminal(['graph', '-c', broken]);
    expect(out).toContain('error DD110');
    expect(out).toContain(escape);
  });

  it('are not used with NO_COLOR or --no-color, or when not on a terminal', async () => {
    expect(onTerminal(['graph', '-c', broken], { NO_COLOR: '1' })).not.toContain(escape);
    const flagged = onTerminal(['graph', '-c', broken, '--no-color']);
    expect(flagged).toContain('error DD110');
    expect(flagged).not.toContain(escape);
    expect((await drydock(['graph', '-c', broken])).stderr).not.toContain(escape);
  });
});
