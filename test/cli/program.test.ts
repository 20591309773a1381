/**
 * The program in-process, for what a real project cannot trigger on purpose: an internal error
 * (a drydock bug) must print its stack and where to report it, and exit 70. Also the color rules.
 */
import { describe, expect, it } from 'vitest';
import { error } from '@drydock/core';
import { commands } from '../../cli/src/commands/index.js';
import { Output, useColor, type Stream } from '../../cli/src/output.js';
import { BUG_REPORT, main } from '../../cli/src/program.js';

const ESC = '\u001b';
const stripColors = (text: string) =>
  text
    .split(ESC)
    .map((part, i) => (i === 0 ? part : part.replace(/^\[\d+m/, '')))
    .join('');

class Captured implements Stream {
  text = '';
  constructor(readonly isTTY = false) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

async function runWith(run: () => Promise<number>, argv = ['graph']) {
  const stdout = new Captured();
  const stderr = new Captured();
  const code = await main(
    { argv, cwd: '/', env: {}, stdout, stderr },
    { ...commands, graph: { load: async () => run, maxPositionals: 9 } },
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('internal errors', () => {
  it('print the stack and the bug-report line, and exit 70', async () => {
    const result = await runWith(async () => {
      throw new TypeError('cannot read properties of undefined');
    });
    expect(result.code).toBe(70);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^TypeError: cannot read properties of undefined\n\s+at /);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(BUG_REPORT);
    expect(BUG_REPORT).toBe(
      'drydock bug: please report at https://github.com/drydock-build/drydock/issues with the command and this output',
    );
  });

  it('also when something that is not an Error is thrown', async () => {
    const result = await runWith(() => Promise.reject('a string'));
    expect(result.code).toBe(70);
    expect(result.stderr).toBe(`a string\n${BUG_REPORT}\n`);
  });

  it('while a DiagnosticError, even from another copy of drydock, is a user error: exit 1, no stack', async () => {
    const foreign = Object.assign(new Error('x'), {
      name: 'DiagnosticError',
      diagnostics: [error('DD110', 'no such stage')],
    });
    const result = await runWith(() => Promise.reject(foreign));
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error DD110: no such stage\n1 error\n' });
  });

  it('the exit status of the command is the exit status of the program', async () => {
    expect((await runWith(async () => 0)).code).toBe(0);
    expect((await runWith(async () => 1)).code).toBe(1);
  });
});

describe('colors', () => {
  const tty = new Captured(true);
  const pipe = new Captured(false);

  it('are on for a terminal only, and off with NO_COLOR (non-empty) or --no-color', () => {
    expect(useColor(tty, { noColorFlag: false, env: {} })).toBe(true);
    expect(useColor(pipe, { noColorFlag: false, env: {} })).toBe(false);
    expect(useColor(tty, { noColorFlag: true, env: {} })).toBe(false);
    expect(useColor(tty, { noColorFlag: false, env: { NO_COLOR: '1' } })).toBe(false);
    expect(useColor(tty, { noColorFlag: false, env: { NO_COLOR: '' } })).toBe(true);
  });

  it('paint the severity and code of a diagnostic, and the summary; the text stays the same', () => {
    const stderr = new Captured(true);
    const out = new Output(new Captured(), stderr, { noColorFlag: false, env: {} }, '/work');
    out.diagnostics([
      error('DD110', 'no such stage', { loc: { file: '/work/images.config.ts', line: 3, column: 7 } }),
      { ...error('DD160', 'odd value'), severity: 'warning' },
    ]);
    expect(stderr.text).toContain('\u001b[31merror DD110:\u001b[39m');
    expect(stderr.text).toContain('\u001b[33mwarning DD160:\u001b[39m');
    expect(stripColors(stderr.text)).toBe(
      'images.config.ts:3:7: error DD110: no such stage\nwarning DD160: odd value\n1 error, 1 warning\n',
    );
  });
});

describe('paths in output', () => {
  const out = new Output(new Captured(), new Captured(), { noColorFlag: false, env: {} }, '/home/me/repo/services');

  it('are relative to the working directory, unless the absolute path is shorter', () => {
    expect(out.relative('/home/me/repo/services/api/images.config.ts')).toBe('api/images.config.ts');
    expect(out.relative('/home/me/repo/images.config.ts')).toBe('../images.config.ts');
    expect(out.relative('/tmp/out/api.Dockerfile')).toBe('/tmp/out/api.Dockerfile');
    expect(out.relative('/home/me/repo/services')).toBe('.');
  });
});
