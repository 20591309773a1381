/**
 * Dockerfile quoting. Graph strings are Dockerfile words: `$NAME` and `${NAME}` refer to build args
 * or env vars and `\$` is a literal dollar; every other character is literal. Each helper writes a
 * string so that BuildKit's parser and word expansion give back exactly that word. The rules were
 * checked against docker 20.10's BuildKit (test/dockerfile/roundtrip.test.ts builds them).
 */

/** Words that read the same quoted or not, in every place that expands variables. */
const PLAIN_WORD = /^[A-Za-z0-9_./:@%+,=~^${}-]+$/;
/** Literal values (no expansion wanted), so no `$`. */
const PLAIN_LITERAL = /^[A-Za-z0-9_./:@%+,=~^-]+$/;
/** Flag values: anything without whitespace, quotes or backslashes survives the flag splitter. */
const PLAIN_FLAG = /^[^\s"'\\]+$/;

/** A Dockerfile line ends at a newline; no instruction can hold a literal one outside a heredoc. */
export function hasLineBreak(s: string): boolean {
  return /[\r\n]/.test(s);
}

/**
 * Escapes a word for BuildKit's unquoted word processing (JSON-form VOLUME/COPY/ADD and the flags it
 * expands), which would otherwise eat quotes and backslashes. `\$` stays: it is the graph's literal `$`.
 */
export function escapeWord(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && s[i + 1] === '$') {
      out += '\\$';
      i++;
    } else if (ch === '\\' || ch === '"' || ch === "'") {
      out += '\\' + ch;
    } else {
      out += ch;
    }
  }
  return out;
}

/** `"…"` for places that expand variables: only `"` and `\` need escaping inside double quotes. */
export function doubleQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && s[i + 1] === '$') {
      out += '\\$';
      i++;
    } else if (ch === '\\' || ch === '"') {
      out += '\\' + ch;
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/** A word (ENV/LABEL value, WORKDIR, USER, …): bare when that is unambiguous, else double-quoted. */
export function word(s: string): string {
  return PLAIN_WORD.test(s) ? s : doubleQuote(s);
}

/** A literal value (an ARG default): `$` must not expand, so it is escaped too. */
export function literal(s: string): string {
  return PLAIN_LITERAL.test(s) ? s : '"' + s.replace(/[\\"$]/g, '\\$&') + '"';
}

/** A flag value (`--name=value`): BuildKit's flag splitter honours quotes and backslash escapes. */
export function flag(s: string): string {
  return PLAIN_FLAG.test(s) ? s : '"' + s.replace(/[\\"]/g, '\\$&') + '"';
}

/** One CSV field of a `--mount` value (BuildKit reads mount options as CSV). */
export function csvField(s: string): string {
  return /[",]/.test(s) || s !== s.trim() ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** `["a", "b"]`: JSON, spaced for reading. JSON escapes are all BuildKit needs where nothing expands. */
export function jsonArray(items: readonly string[]): string {
  return '[' + items.map((i) => JSON.stringify(i)).join(', ') + ']';
}

/**
 * Whether a shell-form command can be written after `RUN`/`CMD` on one line: no line breaks, no
 * trailing backslash (a line continuation) and not something the parser would take for JSON.
 */
/**
 * How a shell-form RUN is written: on one line; as continuation lines when every line break
 * follows a `\` (the Dockerfile parser joins them, as sh would); else as a heredoc (dockerfile 1.4).
 * Continuations are only the same command without single quotes (sh keeps `\`+newline inside them,
 * the parser does not) and without comment or blank lines (the parser drops those).
 */
export function runForm(command: string): 'line' | 'continued' | 'heredoc' {
  if (fitsOneLine(command)) return 'line';
  const lines = command.split('\n');
  const continued =
    !command.includes('\r') &&
    !command.includes("'") &&
    !looksLikeJson(command) &&
    lines.slice(0, -1).every((l) => /\\$/.test(l) && !/\\\\$/.test(l)) &&
    lines.slice(1).every((l) => l.trim() !== '' && !l.trim().startsWith('#')) &&
    !/\\[ \t]*$/.test(lines.at(-1)!);
  return continued ? 'continued' : 'heredoc';
}

export function fitsOneLine(command: string): boolean {
  if (hasLineBreak(command) || /\\[ \t]*$/.test(command)) return false;
  return !looksLikeJson(command);
}

function looksLikeJson(command: string): boolean {
  const t = command.trim();
  if (!t.startsWith('[')) return false;
  try {
    const parsed: unknown = JSON.parse(t);
    return Array.isArray(parsed);
  } catch {
    return false;
  }
}

/** Variable names a word refers to (`$NAME`, `${NAME}`, `${NAME:-x}`), skipping escaped `\$`. */
export function referencedNames(s: string): string[] {
  const names: string[] = [];
  const re = /\\\$|\$\{?([A-Za-z_][A-Za-z0-9_]*)/g;
  for (const m of s.matchAll(re)) if (m[1] !== undefined && !names.includes(m[1])) names.push(m[1]);
  return names;
}

/** Replaces references to the given names with their values (for places no Dockerfile expands). */
export function substitute(s: string, values: ReadonlyMap<string, string>): string {
  return s.replace(
    /\\\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, braced?: string, bare?: string) => {
      const name = braced ?? bare;
      return name !== undefined && values.has(name) ? values.get(name)! : m;
    },
  );
}
