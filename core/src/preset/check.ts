/**
 * Checking what a user passed to a preset, before anything is produced: every problem at once,
 * each one line naming the preset, the option and what is allowed.
 */
import { hasToken } from '../compile/tokens.js';
import type { OptionCheck, PresetDefinition } from './types.js';

type AnyDefinition = PresetDefinition<object, string, string>;

const OVERRIDES = ['steps', 'before', 'after', 'override'] as const;
const IMAGE_FIELDS = ['context', 'ignore', 'tags', 'platforms', 'description'] as const;

/** Problems with `options` for `def`; `image` when the whole-image form was called (image fields allowed). */
export function optionProblems(def: AnyDefinition, options: unknown, image: boolean): string[] {
  const p = `preset ${def.name}`;
  if (options === undefined) return [];
  if (!isPlainObject(options)) return [`${p}: options must be an object, got ${describe(options)}`];
  const own = Object.keys(def.options);
  const known = new Set<string>([...own, ...OVERRIDES, ...(image ? IMAGE_FIELDS : [])]);
  const problems: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (!known.has(key)) {
      const imageOnly = (IMAGE_FIELDS as readonly string[]).includes(key);
      problems.push(
        imageOnly
          ? `${p}: option "${key}" is an image field: set it on the image, next to stages`
          : `${p}: unknown option "${key}" (options: ${[...known].join(', ')})`,
      );
      continue;
    }
    // An arg, kept symbolic while compile tries the stages with tokens: checked with its value.
    if (value === undefined || (typeof value === 'string' && hasToken(value))) continue;
    const check = (def.options as Record<string, OptionCheck | undefined>)[key];
    if (check) {
      const allowed = check(value);
      if (allowed !== undefined) problems.push(`${p}: option "${key}" must be ${allowed} (got ${describe(value)})`);
    } else {
      problems.push(...generic(def, key, value).map((m) => `${p}: ${m}`));
    }
  }
  return problems;
}

/** Checks the overrides and image fields every preset takes. */
function generic(def: AnyDefinition, key: string, value: unknown): string[] {
  switch (key) {
    case 'steps':
    case 'before':
    case 'after':
      return keyed(key, value, 'step', def.stepNames, (v) =>
        key === 'steps'
          ? v === null || isStep(v) || isStepList(v)
            ? undefined
            : 'a step, a list of steps, or null to remove the step'
          : isStepList(v)
            ? undefined
            : 'a list of steps',
      );
    case 'override':
      return keyed(key, value, 'stage', def.stageNames, (v) =>
        !isPlainObject(v)
          ? 'an object of stage fields'
          : 'steps' in v
            ? 'stage fields other than steps (change steps with steps, before or after)'
            : undefined,
      );
    case 'context':
    case 'description':
      return typeof value === 'string' && value !== ''
        ? []
        : [`option "${key}" must be a non-empty string (got ${describe(value)})`];
    default:
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? []
        : [`option "${key}" must be a list of strings (got ${describe(value)})`];
  }
}

/** `steps: { name: … }`-like options: an object whose keys are known names, each value checked. */
function keyed(
  key: string,
  value: unknown,
  what: 'step' | 'stage',
  names: readonly string[],
  check: (v: unknown) => string | undefined,
): string[] {
  if (!isPlainObject(value)) {
    return [`option "${key}" must be an object keyed by ${what} name (got ${describe(value)})`];
  }
  const problems: string[] = [];
  for (const [name, v] of Object.entries(value)) {
    if (!names.includes(name)) {
      problems.push(`${key}.${name}: "${name}" is not a ${what} of this preset (${what}s: ${names.join(', ')})`);
      continue;
    }
    const allowed = check(v);
    if (allowed !== undefined) problems.push(`${key}.${name} must be ${allowed} (got ${describe(v)})`);
  }
  return problems;
}

function isStep(v: unknown): boolean {
  return isPlainObject(v) && v.kind === 'step';
}

function isStepList(v: unknown): boolean {
  return Array.isArray(v) && v.every(isStep);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A value as a message shows it: short, on one line. */
export function describe(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return `[${v.map(describe).join(', ').slice(0, 60)}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    return keys.length ? `{ ${keys.join(', ')} }` : '{}';
  }
  return String(v);
}
