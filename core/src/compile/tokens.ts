/**
 * Symbolic args. Stage functions receive each arg as a token string that survives template
 * literals and concatenation; the compiler turns tokens into `${NAME}` (Dockerfile word syntax)
 * or, where a Dockerfile cannot expand them, into the value. Tokens use control characters, so
 * they cannot collide with anything a user writes.
 */
const OPEN = '\u0000ddarg:';
const CLOSE = '\u0000';
// eslint-disable-next-line no-control-regex -- tokens are delimited by NUL on purpose
const TOKEN = /\u0000ddarg:([A-Za-z_][A-Za-z0-9_]*)\u0000/g;

export function tokenFor(name: string): string {
  return `${OPEN}${name}${CLOSE}`;
}

export function hasToken(s: string): boolean {
  return s.includes(OPEN);
}

/** Arg names referenced by tokens in a string. */
export function tokenNames(s: string): string[] {
  return [...s.matchAll(TOKEN)].map((m) => m[1]!);
}

/** Tokens → `${NAME}`: the form a Dockerfile (and the engine) expands. */
export function toWords(s: string): string {
  return s.replace(TOKEN, (_, name: string) => '${' + name + '}');
}

/** Tokens → values. */
export function inline(s: string, values: Readonly<Record<string, string>>): string {
  return s.replace(TOKEN, (_, name: string) => values[name] ?? '');
}

/** Replaces tokens everywhere in a value tree with values, and numbers and booleans with strings. */
export function substituteDeep(
  value: unknown,
  values: Readonly<Record<string, string>>,
  seen: WeakMap<object, unknown> = new WeakMap(),
): unknown {
  if (typeof value === 'string') return inline(value, values);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, values, seen));
  if (value !== null && typeof value === 'object') {
    if (seen.has(value)) return seen.get(value);
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of Object.entries(value)) out[k] = substituteDeep(v, values, seen);
    return out;
  }
  return value;
}
