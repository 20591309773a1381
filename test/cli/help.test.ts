/** README's CLI reference is the real `drydock --help` (refresh it with `npm run docs:cli`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drydock, root } from './helpers.js';

const START = '<!-- cli-help:start -->';
const END = '<!-- cli-help:end -->';

describe('README.md', () => {
  it('holds `drydock --help` verbatim in its cli-help block', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, `README.md needs a ${START} … ${END} block`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const block = readme.slice(start + START.length, end);
    const fenced = /^\s*```[a-z]*\n([\s\S]*?)```\s*$/.exec(block);
    expect(fenced, 'the block holds one fenced code block').not.toBeNull();

    const help = await drydock(['--help']);
    expect(help.code).toBe(0);
    expect(fenced![1], 'README.md is out of date: run `npm run docs:cli`').toBe(help.stdout);
  });
});
