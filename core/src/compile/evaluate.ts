import { error, isDiagnosticError, type Diagnostic } from '../diagnostics/index.js';
import { secretHandle } from '../dsl/secrets.js';
import type { ProjectFiles, SecretHandle, StageContext, StageDef } from '../dsl/types.js';
import { canonicalJson } from '../graph/hash.js';
import type { ArgValue } from './args.js';
import { substituteDeep, tokenFor } from './tokens.js';

/** What an image's stage definitions evaluate to, and which args had to be inlined. */
export interface EvaluatedStages {
  stages: Record<string, StageDef>;
  /** Args the config's own logic branches on: their values are baked into `stages`. */
  branched: string[];
}

type Produce = (ctx: StageContext<never, never>) => Record<string, StageDef>;

interface EvalInput {
  image: string;
  produce: Produce;
  argNames: string[];
  values: Readonly<Record<string, ArgValue>>;
  secretIds: string[];
  /** The image's build context, read-only (what presets inspect). */
  project: ProjectFiles;
  diagnostics: Diagnostic[];
}

/**
 * Evaluates a stages function with args kept symbolic where that is faithful. It runs once with
 * real values, once with every arg as a token; if substituting the values into the symbolic run
 * gives the real run, every arg stays symbolic. Otherwise each arg is tried alone, and the ones
 * whose symbolic run diverges are baked. Configs are pure functions, so re-running them is safe.
 */
export function evaluateStages(input: EvalInput): EvaluatedStages | undefined {
  const { argNames, values } = input;
  const concrete = run(input, new Set());
  if (!concrete.ok) {
    input.diagnostics.push(...concrete.diagnostics);
    return undefined;
  }
  // Numbers and booleans compare as strings: `${args.PORT}` and `args.PORT` are the same token.
  const strings = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
  const target = comparable(substituteDeep(concrete.stages, strings));
  const matches = (symbolic: ReadonlySet<string>): Record<string, StageDef> | undefined => {
    const r = run(input, symbolic);
    if (!r.ok) return undefined;
    return comparable(substituteDeep(r.stages, strings)) === target ? r.stages : undefined;
  };

  const all = new Set(argNames.filter((n) => n in values));
  const allSymbolic = all.size ? matches(all) : concrete.stages;
  if (allSymbolic) return { stages: allSymbolic, branched: [] };

  const branched = [...all].filter((name) => !matches(new Set([name])));
  const rest = new Set([...all].filter((n) => !branched.includes(n)));
  const mixed = matches(rest);
  if (mixed) return { stages: mixed, branched };
  return { stages: concrete.stages, branched: [...all] };
}

type RunResult = { ok: true; stages: Record<string, StageDef> } | { ok: false; diagnostics: Diagnostic[] };

function run(input: EvalInput, symbolic: ReadonlySet<string>): RunResult {
  const args = new Proxy({} as Record<string, unknown>, {
    get(_, name) {
      if (typeof name !== 'string') return undefined;
      if (symbolic.has(name)) return tokenFor(name);
      if (name in input.values) return input.values[name];
      if (input.argNames.includes(name)) return tokenFor(name); // required arg without a value: diagnosed already
      throw new UnknownName('arg', name);
    },
    ownKeys: () => input.argNames,
    getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
  });
  const handles = Object.fromEntries(input.secretIds.map((id) => [id, secretHandle(id)]));
  const secrets = new Proxy(handles as Record<string, SecretHandle>, {
    get(target, name) {
      if (typeof name !== 'string' || name in target) return target[name as string];
      throw new UnknownName('secret', name);
    },
  });
  try {
    const stages = input.produce({ args, secrets, project: input.project } as unknown as StageContext<never, never>);
    return { ok: true, stages };
  } catch (e) {
    // Problems a preset found with its options, already located (the class may be another copy's).
    if (isDiagnosticError(e)) return { ok: false, diagnostics: [...e.diagnostics] };
    if (e instanceof UnknownName) {
      return {
        ok: false,
        diagnostics: [
          error(
            e.what === 'arg' ? 'DD131' : 'DD141',
            `image "${input.image}" uses ${e.what} "${e.argOrSecret}", which the config does not declare`,
            { path: { image: input.image } },
          ),
        ],
      };
    }
    return {
      ok: false,
      diagnostics: [
        error('DD101', `the stages of image "${input.image}" threw: ${(e as Error)?.message ?? e}`, {
          path: { image: input.image },
        }),
      ],
    };
  }
}

class UnknownName extends Error {
  constructor(
    readonly what: 'arg' | 'secret',
    readonly argOrSecret: string,
  ) {
    super(`unknown ${what} ${argOrSecret}`);
  }
}

/** Canonical form for comparing two evaluations; call sites are the same code either way. */
function comparable(value: unknown): string {
  return canonicalJson(value, (key) => key !== 'loc');
}
