import { describe, expect, it } from 'vitest';
import { ContextError, Matcher, parseDockerignore } from '../../core/src/context/index.js';

describe('parseDockerignore', () => {
  it('drops comments and blank lines, trims, cleans and makes patterns relative', () => {
    const text = [
      '\uFEFF# a comment',
      '',
      '   ',
      'node_modules   ',
      '  # not a comment: the line does not start with #',
      '/abs/../dir/',
      '!  /keep/./me ',
      './a//b',
      'win\r',
      '/',
      '**/*.log\t',
    ].join('\n');
    expect(parseDockerignore(text)).toEqual([
      'node_modules',
      '# not a comment: the line does not start with #',
      'dir',
      '!keep/me',
      'a/b',
      'win',
      '/',
      '**/*.log',
    ]);
  });
});

/** [pattern, path, matches] — moby/patternmatcher's TestMatches table (paths without trailing '/'). */
const single: [string, string, boolean][] = [
  ['**', 'file', true],
  ['**/', 'file', true],
  ['**', 'dir/file', true],
  ['**/', 'dir/file', true],
  ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/dir2/file', true],
  ['dir/**/', 'dir/dir2/file', true],
  ['**/dir2', 'dir/dir2', true],
  ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**file', 'file', true],
  ['**file', 'dir/file', true],
  ['**/file', 'dir/file', true],
  ['**file', 'dir/dir/file', true],
  ['**/file', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file.txt', true],
  ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt', 'dir/dir/file.txt', true],
  ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true],
  ['**/**/*.txt', 'file.txt', true],
  ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt', 'a/file.txt', true],
  ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false],
  ['a[b-d]e', 'ace', true],
  ['a[b-d]e', 'aae', false],
  ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true],
  ['.*', 'foo', false],
  ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true],
  ['abc.def', 'abcZdef', false],
  ['abc?def', 'abcZdef', true],
  ['abc?def', 'abcdef', false],
  ['a\\\\', 'a\\', true],
  ['**/foo/bar', 'foo/bar', true],
  ['**/foo/bar', 'dir/foo/bar', true],
  ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false],
  ['abc/**', 'abc/def', true],
  ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false],
  ['a(b)c/def', 'a(b)c/def', true],
  ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  [
    'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl',
    'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl',
    true,
  ],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  // Anchored at the root: a plain name matches only there, `*` stays within one directory.
  ['foo', 'a/foo', false],
  ['*.txt', 'a/b.txt', false],
  ['*', 'a/b', true], // through its parent `a`
  // A pattern matching a parent excludes everything below it.
  ['dir', 'dir/sub/file', true],
  ['dir/sub', 'dir/subway', false],
  ['a?c', 'a/c', false],
];

describe('Matcher (one pattern)', () => {
  it.each(single)('%j matches %j: %s', (pattern, path, want) => {
    expect(new Matcher(parseDockerignore(pattern)).matches(path)).toBe(want);
    expect(new Matcher(parseDockerignore(pattern), { flavor: 'patternmatcher' }).matches(path)).toBe(want);
  });
});

/** [patterns, path, excluded] */
const many: [string[], string, boolean][] = [
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs', '!docs/README.md'], 'docs/other.md', true],
  [['docs', '!docs/README.md'], 'docs', true],
  [['**', '!keep'], 'keep', false],
  [['**', '!keep'], 'keep/below', false],
  [['**', '!keep'], 'other', true],
  [['a', '!a'], 'a', false],
  [['!a', 'a'], 'a', true],
  [['*.md', '!README.md', 'README.md'], 'README.md', true],
  [['dir', '!dir/sub', 'dir/sub/x'], 'dir/sub/x', true],
  [['dir', '!dir/sub', 'dir/sub/x'], 'dir/sub/y', false],
  [['cache', '!**/important.md'], 'cache/deep/important.md', false],
  [['cache', '!**/important.md'], 'cache/deep/other.md', true],
  [['!x'], 'x', false],
];

describe('Matcher (several patterns: last match wins, exceptions re-include)', () => {
  it.each(many)('%j on %j: %s', (patterns, path, want) => {
    expect(new Matcher(patterns).matches(path)).toBe(want);
  });

  it('descends into an excluded directory only for an exception written below it (fsutil in docker 20.10)', () => {
    const m = new Matcher(['dir', '!dir/sub/keep', 'cache', '!**/important.md', 'other', '!o*/x']);
    expect(m.exceptionCouldMatchUnder('dir')).toBe(true);
    expect(m.exceptionCouldMatchUnder('dir/sub')).toBe(true);
    expect(m.exceptionCouldMatchUnder('dir/sub/keep')).toBe(true);
    expect(m.exceptionCouldMatchUnder('dir/sub2')).toBe(false);
    expect(m.exceptionCouldMatchUnder('di')).toBe(false);
    // Wildcard exceptions do not count: BuildKit 20.10 never sends cache/important.md.
    expect(m.exceptionCouldMatchUnder('cache')).toBe(false);
    expect(m.exceptionCouldMatchUnder('other')).toBe(false);
    expect(new Matcher(['dir']).exceptionCouldMatchUnder('dir')).toBe(false);
  });

  it('flavors differ on ancestors deeper than the pattern (docker 20.10 vs moby/patternmatcher)', () => {
    const patterns = ['**/sub', '!a/b/sub/keep'];
    expect(new Matcher(patterns).matches('a/b/sub/y')).toBe(false);
    expect(new Matcher(patterns, { flavor: 'patternmatcher' }).matches('a/b/sub/y')).toBe(true);
    // As deep as the pattern: both exclude.
    expect(new Matcher(patterns).matches('x/sub/y')).toBe(true);
    expect(new Matcher(['a']).matches('a/b/c/d')).toBe(true);
    expect(new Matcher(['a/b']).matches('a/b/c/d')).toBe(true);
    expect(new Matcher(['*/c']).matches('a/b/c/d')).toBe(false);
    expect(new Matcher(['*/c'], { flavor: 'patternmatcher' }).matches('a/b/c/d')).toBe(false);
    expect(new Matcher(['**/c'], { flavor: 'patternmatcher' }).matches('a/b/c/d')).toBe(true);
  });

  it('rejects malformed patterns with a typed error', () => {
    for (const bad of ['!', 'a[', '[]a]', 'x\\']) {
      expect(() => new Matcher([bad]), bad).toThrow(ContextError);
    }
  });
});
