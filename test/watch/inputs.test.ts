// What a watch session reacts to (core/src/watch/inputs.ts): the config and its modules, the
// sources steps read after the ignore rules, each context's .dockerignore; never what the builds
// themselves write (an --output inside a context would otherwise trigger the next build forever).
import { describe, expect, it } from 'vitest';
import { Matcher, parseDockerignore } from '../../core/src/context/index.js';
import { Inputs } from '../../core/src/watch/inputs.js';

const ctx = '/work/app';
const matcher = new Matcher(parseDockerignore('**/*.log\n'));

describe('Inputs', () => {
  const inputs = new Inputs(
    ['/work/app/images.config.ts', '/work/app/lib/stages.ts'],
    [{ dir: ctx, matcher, sources: ['src', 'package.json', 'assets/*.png'] }],
    ['/work/app/out'],
  );

  it('names config files as config, and the sources read (after ignore rules) as context', () => {
    expect(inputs.relevant('/work/app/images.config.ts')).toBe('config');
    expect(inputs.relevant('/work/app/lib/stages.ts')).toBe('config');
    expect(inputs.relevant('/work/app/src/deep/a.ts')).toBe('context');
    expect(inputs.relevant('/work/app/package.json')).toBe('context');
    expect(inputs.relevant('/work/app/assets/logo.png')).toBe('context');
    expect(inputs.relevant('/work/app/.dockerignore')).toBe('context');
  });

  it('ignores what no step reads, what the ignore rules exclude, and what the builds write', () => {
    expect(inputs.relevant('/work/app/README.md')).toBeUndefined();
    expect(inputs.relevant('/work/app/src/debug.log')).toBeUndefined();
    expect(inputs.relevant('/elsewhere/src/a.ts')).toBeUndefined();
  });

  it('watches directories on the way to a source, and not the others', () => {
    expect(inputs.ignored('/work/app', true)).toBe(false);
    expect(inputs.ignored('/work/app/src', true)).toBe(false);
    expect(inputs.ignored('/work/app/assets', true)).toBe(false);
    expect(inputs.ignored('/work/app/docs', true)).toBe(true);
  });

  it('never reacts to what the builds write, even inside a context copied whole', () => {
    const whole = new Inputs([], [{ dir: ctx, matcher, sources: ['.'] }], ['/work/app/out']);
    expect(whole.relevant('/work/app/docs/guide.md')).toBe('context');
    expect(whole.relevant('/work/app/out/index.json')).toBeUndefined();
    expect(whole.relevant('/work/app/outside.txt')).toBe('context');
    expect(whole.ignored('/work/app/out', true)).toBe(true);
    expect(whole.ignored('/work/app/docs', true)).toBe(false);
  });
});
