/**
 * Posix path helpers with Go's `path.Clean` semantics: dockerignore patterns and COPY sources are
 * cleaned the way moby and BuildKit clean them, and Node's `path.posix.normalize` differs (it keeps
 * a trailing slash and turns '' into '.').
 */
import { isAbsolute, relative, sep } from 'node:path';

export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return '/' + joined;
  return joined === '' ? '.' : joined;
}

/** The context-relative posix path of host path `abs`, '' for `dir` itself, undefined when outside it. */
export function contextRelative(dir: string, abs: string): string | undefined {
  const rel = relative(dir, abs);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

export function joinPath(a: string, b: string): string {
  if (a === '' || a === '.') return b;
  if (b === '' || b === '.') return a;
  return `${a}/${b}`;
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Byte-order comparison of UTF-8 names, the order Go's filepath.Walk and os.ReadDir sort in. */
export function compareNames(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A name of ASCII characters only: sorting those by UTF-16 code unit is byte order, with no compare call. */
// eslint-disable-next-line no-control-regex
export const ASCII = /^[\x00-\x7f]*$/;

function isAscii(s: string): boolean {
  return ASCII.test(s);
}
