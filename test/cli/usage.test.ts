/** The command line itself: help, version, and usage errors (exit 2, one line, no stack). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drydock, fixtures, root } from './helpers.js';

const basic = join(fixtures, 'basic');

async function expectUsageError(args: string[], ...mentions: string[]): Promise<string> {
  const run = await drydock(args);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  for (const m of mentions) expect(lines[0]).toContain(m);
  expect(lines[0]).toMatch(/see drydock (\w+ )?--help/);
  return lines[0]!;
}

describe.concurrent('help and version', () => {
  it('--help, -h, help and no command print the overview on stdout and exit 0', async () => {
    const help = await drydock(['--help']);
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    for (const word of ['emit', 'graph', 'ls', 'check', '--config', '--arg', '--no-color', '--version']) {
      expect(help.stdout).toContain(word);
    }
    for (const args of [['-h'], [], ['help']]) {
      expect(await drydock(args)).toEqual({ code: 0, stdout: help.stdout, stderr: '' });
    }
  });

  it.each(['emit', 'graph', 'ls', 'check'])('`drydock %s --help` = -h = `drydock help …`', async (command) => {
    const viaFlag = await drydock([command, '--help']);
    expect(viaFlag.code).toBe(0);
    expect(viaFlag.stdout).toMatch(new RegExp(`^Usage: drydock ${command}\\b`));
    expect((await drydock(['help', command])).stdout).toBe(viaFlag.stdout);
    expect((await drydock([command, '-h'])).stdout).toBe(viaFlag.stdout);
  });

  it("a command's help documents its options", async () => {
    const emit = (await drydock(['emit', '--help'])).stdout;
    expect(emit).toMatch(/-o, --out-dir DIR[\s\S]*--check/);
    expect(emit).toContain('default: dockerfiles/ next to the config file');
    expect((await drydock(['graph', '--help'])).stdout).toMatch(
      /-f, --format FORMAT[\s\S]*dot[\s\S]*mermaid[\s\S]*json/,
    );
    expect((await drydock(['ls', '--help'])).stdout).toContain('--json');
  });

  it('--help wins, even where an option took it for its value', async () => {
    const run = await drydock(['emit', '-o', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: drydock emit/);
  });

  it('-v and --version print the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'cli/package.json'), 'utf8')) as { version: string };
    expect(await drydock(['--version'])).toEqual({ code: 0, stdout: `drydock ${version}\n`, stderr: '' });
    expect((await drydock(['-v'])).stdout).toBe(`drydock ${version}\n`);
  });
});

describe.concurrent('usage errors exit 2 with one line naming the mistake', () => {
  it('an unknown command', async () => {
    await expectUsageError(['biuld'], 'unknown command', '"biuld"');
  });

  it('an unknown option, before or after the command', async () => {
    expect(await expectUsageError(['emit', '--bogus'], '--bogus')).toContain('see drydock emit --help');
    await expectUsageError(['--bogus', 'graph'], '--bogus');
    await expectUsageError(['graph', '-x'], '-x');
  });

  it("another command's option", async () => {
    await expectUsageError(['ls', '--check'], '--check', 'drydock ls');
    await expectUsageError(['-o', 'out'], '-o', 'drydock emit');
  });

  it('an option without its value, or a flag given one', async () => {
    await expectUsageError(['emit', '-o'], '-o', 'needs a value');
    await expectUsageError(['emit', '--out-dir', '--check'], '--out-dir', 'needs a value');
    await expectUsageError(['graph', '-c', basic, '--format'], '--format');
    await expectUsageError(['emit', '--check=yes'], '--check', 'takes no value');
  });

  it('a malformed --arg', async () => {
    await expectUsageError(['graph', '-c', basic, '--arg', 'NODE_VERSION'], 'NODE_VERSION', 'NAME=VALUE');
    await expectUsageError(['graph', '-c', basic, '--arg', '=22'], '=22');
    await expectUsageError(['graph', '-c', basic, '--arg', '1X=2'], '1X=2');
    await expectUsageError(['graph', '-c', basic, '--arg'], '--arg');
  });

  it('an unknown graph format, naming the known ones', async () => {
    await expectUsageError(['graph', '-c', basic, '--format', 'svg'], '"svg"', 'text, dot, mermaid, json');
  });

  it('arguments a command does not take', async () => {
    await expectUsageError(['check', '-c', basic, 'extra'], '"extra"');
    await expectUsageError(['help', 'nope'], '"nope"');
  });

  it('without colors or a stack', async () => {
    const run = await drydock(['emit', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('\u001b[');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
