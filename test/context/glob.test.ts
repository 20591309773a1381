import { describe, expect, it } from 'vitest';
import { ContextError, globMatch, hasWildcards } from '../../core/src/context/index.js';

/** Go's path/filepath matchTests: [pattern, name, result]. */
const table: [string, string, boolean | 'bad'][] = [
  ['abc', 'abc', true],
  ['*', 'abc', true],
  ['*c', 'abc', true],
  ['a*', 'a', true],
  ['a*', 'abc', true],
  ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true],
  ['a*/b', 'a/c/b', false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false],
  ['ab[c]', 'abc', true],
  ['ab[b-d]', 'abc', true],
  ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false],
  ['ab[^b-d]', 'abc', false],
  ['ab[^e-g]', 'abc', true],
  ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true],
  ['a[^a]b', 'a☺b', true],
  ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false],
  ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false],
  ['a?b', 'a/b', false],
  ['a*b', 'a/b', false],
  ['[\\]a]', ']', true],
  ['[\\-]', '-', true],
  ['[x\\-]', 'x', true],
  ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false],
  ['[\\-x]', 'x', true],
  ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false],
  ['[]a]', ']', 'bad'],
  ['[-]', '-', 'bad'],
  ['[x-]', 'x', 'bad'],
  ['[x-]', '-', 'bad'],
  ['[x-]', 'z', 'bad'],
  ['[-x]', 'x', 'bad'],
  ['[-x]', '-', 'bad'],
  ['[-x]', 'a', 'bad'],
  ['\\', 'a', 'bad'],
  ['[a-b-c]', 'a', 'bad'],
  ['[', 'a', 'bad'],
  ['[^', 'a', 'bad'],
  ['[^bc', 'a', 'bad'],
  ['a[', 'a', 'bad'],
  ['a[', 'ab', 'bad'],
  ['a[', 'x', 'bad'],
  ['a/b[', 'x', 'bad'],
  ['*x', 'xxx', true],
];

describe('globMatch (Go filepath.Match)', () => {
  it.each(table)('%j on %j: %s', (pattern, name, want) => {
    if (want === 'bad') expect(() => globMatch(pattern, name)).toThrow(ContextError);
    else expect(globMatch(pattern, name)).toBe(want);
  });

  it('knows which source segments are wildcards (fsutil containsWildcards)', () => {
    expect(['*.txt', 'a?', '[ab]', 'x\\\\*'].map(hasWildcards)).toEqual([true, true, true, true]);
    expect(['plain', 'a\\*', 'sp ace', 'a\\[b'].map(hasWildcards)).toEqual([false, false, false, false]);
  });
});
