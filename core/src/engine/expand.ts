/**
 * Dockerfile variable expansion of graph words, as BuildKit's built-in frontend does it:
 * `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alternative}`; `\$` is a literal dollar and every
 * other character is literal (graph strings carry no Dockerfile quoting: the emitter adds it).
 */
export type Vars = ReadonlyMap<string, string>;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

export function expandWord(word: string, vars: Vars): string {
  let out = '';
  let i = 0;
  while (i < word.length) {
    const ch = word[i]!;
    if (ch === '\\' && word[i + 1] === '$') {
      out += '$';
      i += 2;
    } else if (ch === '$') {
      const [text, next] = dollar(word, i + 1, vars);
      out += text;
      i = next;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Expands what follows a `$` at `i`; returns the text and the index after it. */
function dollar(word: string, i: number, vars: Vars): [string, number] {
  if (word[i] === '{') {
    let j = i + 1;
    while (j < word.length && NAME_CHAR.test(word[j]!)) j++;
    const name = word.slice(i + 1, j);
    if (name === '' || !NAME_START.test(name[0]!)) throw new Error(`bad substitution in ${JSON.stringify(word)}`);
    if (word[j] === '}') return [vars.get(name) ?? '', j + 1];
    if (word[j] === ':' && (word[j + 1] === '-' || word[j + 1] === '+')) {
      const end = closingBrace(word, j + 2);
      const inner = expandWord(word.slice(j + 2, end), vars);
      const value = vars.get(name) ?? '';
      const set = value !== '';
      return [word[j + 1] === '-' ? (set ? value : inner) : set ? inner : '', end + 1];
    }
    throw new Error(`unsupported modifier in ${JSON.stringify(word)}: only \${NAME:-word} and \${NAME:+word}`);
  }
  if (i < word.length && NAME_START.test(word[i]!)) {
    let j = i;
    while (j < word.length && NAME_CHAR.test(word[j]!)) j++;
    return [vars.get(word.slice(i, j)) ?? '', j];
  }
  return ['$', i];
}

function closingBrace(word: string, from: number): number {
  let depth = 1;
  for (let j = from; j < word.length; j++) {
    if (word[j] === '\\') j++;
    else if (word[j] === '{') depth++;
    else if (word[j] === '}' && --depth === 0) return j;
  }
  throw new Error(`missing } in ${JSON.stringify(word)}`);
}
