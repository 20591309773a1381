/** `drydock check`: load, compile and check this machine. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drydock, errorLines, fixtures, tempDir } from './helpers.js';

describe.concurrent('drydock check', () => {
  it('prints ok and exits 0 when contexts exist and used secrets have sources', async () => {
    const npmrc = join(tempDir(), 'npmrc');
    writeFileSync(npmrc, 'registry=http://127.0.0.1:4873/\n');
    const run = await drydock(['check', '-c', join(fixtures, 'basic')], {
      env: { DRYDOCK_TEST_TOKEN: 'x', DRYDOCK_TEST_NPMRC: npmrc },
    });
    expect(run).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
  });

  it('reports every missing secret source of steps that mount them', async () => {
    const run = await drydock(['check', '-c', join(fixtures, 'basic')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = errorLines(run.stderr);
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).toMatch(/DD140: secret "npmrc".*DRYDOCK_TEST_NPMRC/);
    expect(lines.join('\n')).toMatch(/DD140: secret "token".*DRYDOCK_TEST_TOKEN/);
    expect(run.stderr).toContain('2 errors');
  });

  it('reports a missing build context and an unset secret env var, located in the config', async () => {
    const run = await drydock(['check'], { cwd: join(fixtures, 'host') });
    expect(run.code).toBe(1);
    const lines = errorLines(run.stderr);
    expect(lines).toEqual([
      expect.stringMatching(/^images\.config\.ts:\d+:\d+: error DD121: .*no-such-dir/),
      expect.stringMatching(/^images\.config\.ts:\d+:\d+: error DD140: .*DRYDOCK_TEST_UNSET_TOKEN/),
    ]);
  });

  it('applies --arg values (a bad one fails the check)', async () => {
    const run = await drydock(['check', '-c', join(fixtures, 'basic'), '--arg', 'NODE_VERSION=18']);
    expect(run.code).toBe(1);
    expect(errorLines(run.stderr)).toEqual([expect.stringMatching(/DD130.*20, 22/)]);
  });
});
