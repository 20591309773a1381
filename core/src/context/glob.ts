/**
 * Go's `filepath.Match` (Unix), which BuildKit uses to resolve COPY/ADD wildcard sources: `*` and
 * `?` never match '/', `[...]` classes with `^` negation and ranges, `\` escapes. A malformed
 * pattern is an error even when the name would not reach the bad part, as in Go.
 */
import { ContextError } from './errors.js';

export function hasWildcards(segment: string): boolean {
  // Same scan as fsutil's containsWildcards: a backslash escapes the next character.
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** Throws ContextError('bad-pattern') when Go would return ErrBadPattern. */
export function globMatch(pattern: string, name: string): boolean {
  const r = match(pattern, name);
  if (r === 'bad') throw new ContextError('bad-pattern', `syntax error in pattern ${JSON.stringify(pattern)}`, pattern);
  return r;
}

function match(pattern: string, name: string): boolean | 'bad' {
  // A direct port of Go's path/filepath.Match loop.
  Pattern: while (pattern.length > 0) {
    let star: boolean;
    let chunk: string;
    ({ star, chunk, rest: pattern } = scanChunk(pattern));
    if (star && chunk === '') return !name.includes('/');
    const t = matchChunk(chunk, name);
    if (t === 'bad') return 'bad';
    if (t !== null && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, name.slice(i + 1));
        if (t2 === 'bad') return 'bad';
        if (t2 !== null) {
          if (pattern.length === 0 && t2.length > 0) continue;
          name = t2;
          continue Pattern;
        }
      }
    }
    // Go keeps checking the rest of the pattern for syntax errors before saying no.
    while (pattern.length > 0) {
      ({ chunk, rest: pattern } = scanChunk(pattern));
      if (matchChunk(chunk, '') === 'bad') return 'bad';
    }
    return false;
  }
  return name.length === 0;
}

function scanChunk(pattern: string): { star: boolean; chunk: string; rest: string } {
  let star = false;
  while (pattern.length > 0 && pattern[0] === '*') {
    pattern = pattern.slice(1);
    star = true;
  }
  let inrange = false;
  let i = 0;
  Scan: for (; i < pattern.length; i++) {
    switch (pattern[i]) {
      case '\\':
        if (i + 1 < pattern.length) i++;
        break;
      case '[':
        inrange = true;
        break;
      case ']':
        inrange = false;
        break;
      case '*':
        if (!inrange) break Scan;
    }
  }
  return { star, chunk: pattern.slice(0, i), rest: pattern.slice(i) };
}

/** The rest of `s` after `chunk` matched its start, null for no match, 'bad' for a syntax error. */
function matchChunk(chunk: string, s: string): string | null | 'bad' {
  let failed = false;
  const cps = (x: string) => String.fromCodePoint(x.codePointAt(0)!);
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    switch (chunk[0]) {
      case '[': {
        let r = 0;
        if (!failed) {
          const c = cps(s);
          r = c.codePointAt(0)!;
          s = s.slice(c.length);
        }
        chunk = chunk.slice(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === '^') {
          negated = true;
          chunk = chunk.slice(1);
        }
        let matched = false;
        let nrange = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
            chunk = chunk.slice(1);
            break;
          }
          const lo = getEsc(chunk);
          if (lo === 'bad') return 'bad';
          chunk = lo.rest;
          let hi = lo.r;
          if (chunk[0] === '-') {
            const h = getEsc(chunk.slice(1));
            if (h === 'bad') return 'bad';
            chunk = h.rest;
            hi = h.r;
          }
          if (lo.r <= r && r <= hi) matched = true;
          nrange++;
        }
        if (matched === negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] === '/') failed = true;
          s = s.slice(cps(s).length);
        }
        chunk = chunk.slice(1);
        break;
      case '\\':
        chunk = chunk.slice(1);
        if (chunk.length === 0) return 'bad';
      // falls through
      default:
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
    }
  }
  return failed ? null : s;
}

function getEsc(chunk: string): { r: number; rest: string } | 'bad' {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') return 'bad';
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) return 'bad';
  }
  const r = chunk.codePointAt(0)!;
  const rest = chunk.slice(String.fromCodePoint(r).length);
  if (rest.length === 0) return 'bad';
  return { r, rest };
}
