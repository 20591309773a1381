import { error, type Diagnostic } from '../diagnostics/index.js';
import type { ArgSpec, ArgSpecs } from '../dsl/types.js';
import type { ArgBinding } from '../graph/types.js';

export type ArgValue = string | number | boolean;

export interface ResolvedArgs {
  bindings: ArgBinding[];
  /** Typed values by name; absent for a required arg that was not given (already diagnosed). */
  values: Record<string, ArgValue>;
  diagnostics: Diagnostic[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What a value of this arg may be, for messages: `one of 20, 22`, `an integer from 1 to 65535`. */
export function describeArgType(spec: ArgSpec): string {
  switch (spec.type) {
    case 'enum':
      return `one of ${spec.values.join(', ')}`;
    case 'int': {
      const range =
        spec.min !== undefined && spec.max !== undefined
          ? ` from ${spec.min} to ${spec.max}`
          : spec.min !== undefined
            ? ` >= ${spec.min}`
            : spec.max !== undefined
              ? ` <= ${spec.max}`
              : '';
      return `an integer${range}`;
    }
    case 'boolean':
      return 'true or false';
    case 'string':
      return spec.pattern === undefined ? 'a string' : `a string matching /${spec.pattern}/`;
  }
}

/** Parses a command-line value against its spec; undefined when it does not fit. */
export function parseArgValue(spec: ArgSpec, raw: string): ArgValue | undefined {
  switch (spec.type) {
    case 'enum':
      return spec.values.includes(raw) ? raw : undefined;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return undefined;
      const n = Number(raw);
      return fitsInt(spec, n) ? n : undefined;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'string':
      return matchesPattern(spec.pattern, raw) ? raw : undefined;
  }
}

function fitsInt(spec: Extract<ArgSpec, { type: 'int' }>, n: number): boolean {
  return (
    Number.isSafeInteger(n) && (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max)
  );
}

function matchesPattern(pattern: string | undefined, s: string): boolean {
  return pattern === undefined || new RegExp(`^(?:${pattern})$`).test(s);
}

/** Checks a declared default against its own type (configs written in JS skip the type checker). */
function defaultFits(spec: ArgSpec): boolean {
  const d = spec.default;
  switch (spec.type) {
    case 'enum':
      return typeof d === 'string' && spec.values.includes(d);
    case 'int':
      return typeof d === 'number' && fitsInt(spec, d);
    case 'boolean':
      return typeof d === 'boolean';
    case 'string':
      return typeof d === 'string' && matchesPattern(spec.pattern, d);
  }
}

const KNOWN_TYPES = new Set(['enum', 'string', 'int', 'boolean']);

/** Resolves every declared arg from its default and the command line, collecting every problem. */
export function resolveArgs(specs: ArgSpecs, overrides: Readonly<Record<string, string>>): ResolvedArgs {
  const diagnostics: Diagnostic[] = [];
  const bindings: ArgBinding[] = [];
  const values: Record<string, ArgValue> = {};

  for (const [name, spec] of Object.entries(specs)) {
    const path = { field: 'args', value: name };
    if (!NAME.test(name)) {
      diagnostics.push(
        error('DD133', `arg name "${name}" is not a valid build arg name`, {
          hint: 'use letters, digits and _, not starting with a digit',
          path,
        }),
      );
      continue;
    }
    if (spec?.kind !== 'arg' || !KNOWN_TYPES.has(spec.type)) {
      diagnostics.push(error('DD133', `arg "${name}" is not declared with arg.enum/string/int/boolean`, { path }));
      continue;
    }
    if (spec.type === 'string' && spec.pattern !== undefined) {
      try {
        new RegExp(spec.pattern);
      } catch {
        diagnostics.push(error('DD133', `arg "${name}" has an invalid pattern /${spec.pattern}/`, { path }));
        continue;
      }
    }
    if (spec.default !== undefined && !defaultFits(spec)) {
      diagnostics.push(
        error(
          'DD133',
          `arg "${name}" has default ${JSON.stringify(spec.default)}, which is not ${describeArgType(spec)}`,
          { path },
        ),
      );
      continue;
    }

    const raw = overrides[name];
    let value: ArgValue | undefined = spec.default;
    if (raw !== undefined) {
      value = parseArgValue(spec, raw);
      if (value === undefined) {
        diagnostics.push(
          error('DD130', `--arg ${name}=${raw} is not allowed: ${name} must be ${describeArgType(spec)}`, {
            path,
          }),
        );
        continue;
      }
    } else if (value === undefined) {
      diagnostics.push(
        error('DD132', `arg "${name}" has no default and no value`, {
          hint: `pass --arg ${name}=<${describeArgType(spec)}>`,
          path,
        }),
      );
    }
    if (value !== undefined) values[name] = value;
    bindings.push({
      name,
      type: spec.type,
      ...(value === undefined ? {} : { value: String(value) }),
      ...(spec.default === undefined ? {} : { default: String(spec.default) }),
      given: raw !== undefined,
      ...(spec.description === undefined ? {} : { description: spec.description }),
    });
  }

  for (const name of Object.keys(overrides)) {
    if (!(name in specs)) {
      const known = Object.keys(specs);
      diagnostics.push(
        error('DD131', `--arg ${name}: the config declares no arg "${name}"`, {
          hint: known.length ? `declared args: ${known.join(', ')}` : 'the config declares no args',
        }),
      );
    }
  }
  return { bindings, values, diagnostics };
}
