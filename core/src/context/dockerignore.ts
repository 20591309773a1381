/**
 * .dockerignore with moby/patternmatcher semantics, which BuildKit applies to the context it
 * sends: patterns are anchored at the context root and compiled to regular expressions; a path is
 * excluded when a pattern matches it or any of its parent directories; `!` exceptions re-include;
 * the last pattern that matches wins.
 */
import { ContextError } from './errors.js';
import { globMatch } from './glob.js';
import { cleanPath } from './path.js';

/**
 * The patterns of a .dockerignore file, as moby's ignorefile.ReadAll returns them: comment lines
 * (starting with `#`, before trimming) and blank lines dropped, whitespace trimmed, each cleaned
 * and made relative (`/a/../b/` → `b`), `!` kept in front.
 */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (let raw of lines) {
    // bufio.ScanLines drops one trailing \r.
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (raw.startsWith('#')) continue;
    let pattern = raw.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? '!' + pattern : pattern);
  }
  return out;
}

interface Compiled {
  source: string;
  exclusion: boolean;
  regexp: RegExp;
  /** Number of path segments in the pattern (moby's `pattern.dirs`). */
  dirs: number;
}

/**
 * Which moby matcher to reproduce. They differ in how a pattern excludes a path through a parent:
 * - `docker-20.10` (default; the daemon the tests build with): fileutils.Matches tests only the
 *   ancestor with as many segments as the pattern, and the context walk enters an excluded
 *   directory only for an exception written below it. Checked: with `**\/sub` and
 *   `!a/b/sub/keep`, docker 20.10 sends `a/b/sub/y` too.
 * - `patternmatcher`: moby/patternmatcher's MatchesOrParentMatches (newer docker), where any
 *   matching ancestor excludes. Its walk rule is approximated (it also descends when an exception
 *   has wildcards); not checked against a daemon here.
 */
export type IgnoreFlavor = 'docker-20.10' | 'patternmatcher';

/** Per-pattern results for a directory, so its children need not re-test every ancestor. */
export type ParentMatches = readonly boolean[];

export class Matcher {
  private readonly patterns: Compiled[];
  readonly hasExceptions: boolean;

  readonly flavor: IgnoreFlavor;

  constructor(patterns: readonly string[], options: { flavor?: IgnoreFlavor } = {}) {
    this.patterns = patterns.map(compile);
    this.hasExceptions = this.patterns.some((p) => p.exclusion);
    this.flavor = options.flavor ?? 'docker-20.10';
  }

  get size(): number {
    return this.patterns.length;
  }

  /**
   * Whether the context-relative posix `path` is excluded by the patterns alone (the walk may
   * also leave out what is below an excluded directory; see exceptionCouldMatchUnder). `isDir` does not change the answer: patterns are cleaned, so `dir/`
   * and `dir` are the same pattern and match files and directories alike; it is taken so callers
   * say what they know.
   */
  matches(path: string, isDir = false): boolean {
    void isDir;
    return this.decide(this.matchEach(path, undefined));
  }

  /**
   * For each pattern, whether it matches `path` directly or through a parent (per the flavor);
   * with the `patternmatcher` flavor, pass the parent directory's result to avoid re-testing
   * ancestors (the walk does).
   */
  matchEach(path: string, parent: ParentMatches | undefined): boolean[] {
    if (this.flavor === 'docker-20.10') {
      // Slash positions, so the ancestor with k segments is path.slice(0, slashes[k - 1]).
      const slashes: number[] = [];
      for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) slashes.push(i);
      return this.patterns.map(
        (p) => p.regexp.test(path) || (p.dirs <= slashes.length && p.regexp.test(path.slice(0, slashes[p.dirs - 1]))),
      );
    }
    const parents = parent ?? this.ancestorMatches(path);
    return this.patterns.map((p, i) => parents[i]! || p.regexp.test(path));
  }

  /** The last matching pattern decides; exceptions re-include. */
  decide(each: ParentMatches): boolean {
    let matched = false;
    for (let i = 0; i < this.patterns.length; i++) {
      if (each[i]) matched = !this.patterns[i]!.exclusion;
    }
    return matched;
  }

  /**
   * Whether the walk descends into the excluded directory `dir`: only when some exception pattern,
   * as written, starts with `dir/`. This is the rule of the fsutil that docker 20.10 sends contexts
   * with (and of docker's classic archive walk), confirmed against it: with `cache` and
   * `!**\/important.md`, `cache/important.md` is NOT sent, while `dir/sub` and `!dir/sub/keep`
   * sends `dir/sub/keep`. So this decides what is in the context, it is not only a shortcut.
   */
  exceptionCouldMatchUnder(dir: string): boolean {
    if (!this.hasExceptions) return false;
    const dirSlash = dir + '/';
    return this.patterns.some(
      (p) =>
        p.exclusion &&
        ((p.source.slice(1) + '/').startsWith(dirSlash) ||
          (this.flavor === 'patternmatcher' && /[*?[\\]/.test(p.source))),
    );
  }

  private ancestorMatches(path: string): boolean[] {
    const result = this.patterns.map(() => false);
    const segs = path.split('/');
    for (let n = 1; n < segs.length; n++) {
      const ancestor = segs.slice(0, n).join('/');
      this.patterns.forEach((p, i) => {
        if (!result[i] && p.regexp.test(ancestor)) result[i] = true;
      });
    }
    return result;
  }
}

/** patternmatcher's Pattern.compile: `**` spans directories, `*` and `?` stay within one. */
function compile(source: string): Compiled {
  const exclusion = source.startsWith('!');
  const pattern = exclusion ? source.slice(1) : source;
  if (pattern === '')
    throw new ContextError('bad-pattern', `illegal exclusion pattern: ${JSON.stringify(source)}`, source);
  let re = '^';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (inClass) {
      // Character classes go to the regexp as written (Go and JS classes agree on `^`, ranges, `\`).
      if (ch === '\\' && i + 1 < pattern.length) re += ch + pattern[++i];
      else re += ch === '[' ? '\\[' : ch;
      if (ch === ']') inClass = false;
      continue;
    }
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` is `**`: eat the slash.
        if (pattern[i + 1] === '/') i++;
        // `**` at the end matches everything (as .gitignore); elsewhere any number of directories.
        re += i + 1 >= pattern.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\') {
      // A trailing backslash escapes nothing: moby's regexp fails to compile, so it is an error.
      if (i + 1 >= pattern.length)
        throw new ContextError('bad-pattern', `illegal exclusion pattern: ${JSON.stringify(source)}`, source);
      const next = pattern[++i]!;
      re += /[A-Za-z0-9]/.test(next) ? next : '\\' + next;
    } else if (ch === '[') {
      inClass = true;
      re += ch;
    } else {
      re += /[.+()|{}$^\]]/.test(ch) ? '\\' + ch : ch;
    }
  }
  re += '$';
  let regexp: RegExp;
  try {
    if (inClass) throw new Error('unterminated class');
    regexp = new RegExp(re);
    // moby also rejects what filepath.Match calls a bad pattern.
    globMatch(pattern, '.');
  } catch {
    throw new ContextError('bad-pattern', `illegal exclusion pattern: ${JSON.stringify(source)}`, source);
  }
  return { source, exclusion, regexp, dirs: pattern.split('/').length };
}
