import type { BakedArg } from '../graph/types.js';
import { hasToken, inline, tokenNames, toWords } from './tokens.js';

/**
 * Turns DSL strings (possibly holding arg tokens) into graph strings, remembering which args each
 * node uses and which had to be inlined because the instruction cannot expand them.
 */
export class Words {
  readonly used = new Set<string>();
  constructor(
    private readonly values: Readonly<Record<string, string>>,
    private readonly baked: Map<string, BakedArg>,
  ) {}

  /** Where a Dockerfile expands `${NAME}` (FROM, COPY, ENV, WORKDIR, shell-form RUN, …). */
  expand(s: string): string {
    for (const name of tokenNames(s)) this.used.add(name);
    return toWords(s);
  }

  /** Where it does not (CMD, ENTRYPOINT, HEALTHCHECK, SHELL, exec-form RUN, ONBUILD): inline the value. */
  literal(s: string, where: string): string {
    if (!hasToken(s)) return s;
    for (const name of tokenNames(s)) {
      const known = this.baked.get(name);
      if (!known) {
        this.baked.set(name, { name, value: this.values[name] ?? '', reason: 'no-expansion', where });
      } else if (known.reason === 'no-expansion' && !known.where?.split(', ').includes(where)) {
        known.where = `${known.where}, ${where}`;
      }
    }
    return inline(s, this.values);
  }

  /** Args used since the last call, sorted; resets for the next node. */
  take(): string[] {
    const names = [...this.used].sort();
    this.used.clear();
    return names;
  }
}
