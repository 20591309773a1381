import { callSite } from '../dsl/loc.js';
import type { SourceLoc, StageDef } from '../dsl/types.js';
import { presetError, produceStages } from './apply.js';
import { isPlainObject, optionProblems } from './check.js';
import type {
  AnyStageContext,
  Preset,
  PresetDefinition,
  PresetExtension,
  PresetImage,
  PresetImageOptions,
  PresetOptions,
} from './types.js';

const RESERVED = ['steps', 'before', 'after', 'override', 'context', 'ignore', 'tags', 'platforms', 'description'];
const NAME = /^[a-z][a-z0-9-]*$/;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Defines a preset. Nothing runs until the preset is used: calling it checks the options (every
 * problem at once, located at the call), and the config's compile step runs `stages` with the
 * image's build context. Give the type arguments explicitly: options, stage names, step names.
 *
 *     export const node = definePreset<NodeOptions, NodeStage, NodeStep>({ name: 'node', … });
 */
export function definePreset<O extends object, N extends string, K extends string>(
  def: PresetDefinition<O, N, K>,
): Preset<O, N, K> {
  checkDefinition(def as unknown as PresetDefinition<object, string, string>);
  return makePreset(def, {});
}

type AnyOptions = PresetImageOptions<object, string, string>;

function makePreset<O extends object, N extends string, K extends string>(
  def: PresetDefinition<O, N, K>,
  defaults: AnyOptions,
): Preset<O, N, K> {
  const loose = def as unknown as PresetDefinition<object, string, string>;
  const ignore = [...(def.ignore ?? [])];

  /** Checked options with the defaults under them, or a thrown DD160 for each problem. */
  const resolve = (options: unknown, image: boolean, loc: SourceLoc | undefined): AnyOptions => {
    const problems = optionProblems(loose, options, image);
    if (problems.length) throw presetError(def.name, problems, loc);
    return mergeOptions(defaults, (options ?? {}) as AnyOptions);
  };

  const preset = (options?: PresetImageOptions<O, N, K>): PresetImage<N> => {
    const loc = callSite();
    const { context, ignore: extra, tags, platforms, description, ...rest } = resolve(options, true, loc);
    const image: PresetImage<string> = {
      ...(context === undefined ? {} : { context }),
      ignore: [...ignore, ...(extra ?? [])],
      ...(tags === undefined ? {} : { tags }),
      ...(platforms === undefined ? {} : { platforms }),
      ...(description === undefined ? {} : { description }),
      target: def.target,
      stages: (ctx: AnyStageContext) => produceStages(loose, rest, ctx.project, loc),
    };
    return image as PresetImage<N>;
  };

  const stages: Preset<O, N, K>['stages'] = (ctx, options) => {
    const loc = callSite();
    if (!isPlainObject(ctx) || typeof ctx.project !== 'object' || ctx.project === null) {
      throw presetError(
        def.name,
        [
          `${def.importName}.stages(ctx, options) needs the stage context as its first argument: stages: (ctx) => ({ ...${def.importName}.stages(ctx, { … }) })`,
        ],
        loc,
      );
    }
    const resolved = resolve(options, false, loc) as PresetOptions<object, string, string>;
    return produceStages(loose, resolved, ctx.project, loc) as Record<N, StageDef<N>>;
  };

  const extend: Preset<O, N, K>['extend'] = (extension) => {
    const { defaults: more, detect, ...identity } = extension as PresetExtension<object, string, string>;
    const loc = callSite();
    const problems = optionProblems({ ...loose, name: identity.name }, more, true);
    if (problems.length) throw presetError(identity.name, problems, loc);
    const child = { ...def, description: def.description, ...identity, ...(detect ? { detect } : {}) };
    checkDefinition(child as unknown as PresetDefinition<object, string, string>);
    return makePreset(child, mergeOptions(defaults, (more ?? {}) as AnyOptions));
  };

  return Object.defineProperties(preset, {
    // A function's own `name` and `length` are not writable; define, do not assign.
    name: { value: def.name, enumerable: true },
    kind: { value: 'preset', enumerable: true },
    package: { value: def.package, enumerable: true },
    importName: { value: def.importName, enumerable: true },
    description: { value: def.description, enumerable: true },
    importSnippet: { value: `import { ${def.importName} } from '${def.package}';`, enumerable: true },
    target: { value: def.target, enumerable: true },
    stageNames: { value: Object.freeze([...def.stageNames]), enumerable: true },
    stepNames: { value: Object.freeze([...def.stepNames]), enumerable: true },
    optionNames: { value: Object.freeze(Object.keys(def.options)), enumerable: true },
    ignore: { value: Object.freeze(ignore), enumerable: true },
    detect: { value: (project: Parameters<typeof def.detect>[0]) => def.detect(project), enumerable: true },
    stages: { value: stages, enumerable: true },
    extend: { value: extend, enumerable: true },
  }) as unknown as Preset<O, N, K>;
}

/** Mistakes in a preset's own definition: thrown at once, when its package is imported. */
function checkDefinition(def: PresetDefinition<object, string, string>): void {
  const problems: string[] = [];
  if (typeof def.name !== 'string' || !NAME.test(def.name)) {
    problems.push(`name "${def.name}" must be lowercase letters, digits and dashes, starting with a letter`);
  }
  if (typeof def.package !== 'string' || def.package === '') problems.push('package must name its npm package');
  if (typeof def.importName !== 'string' || !IDENTIFIER.test(def.importName)) {
    problems.push(`importName "${def.importName}" must be a JavaScript identifier`);
  }
  if (!def.stageNames?.includes(def.target)) {
    problems.push(`target "${def.target}" is not one of stageNames (${def.stageNames?.join(', ')})`);
  }
  for (const key of Object.keys(def.options ?? {})) {
    if (RESERVED.includes(key)) problems.push(`option "${key}" is reserved for every preset (${RESERVED.join(', ')})`);
  }
  if (typeof def.detect !== 'function' || typeof def.stages !== 'function') {
    problems.push('detect and stages must be functions');
  }
  if (problems.length) {
    throw new Error(`definePreset(${JSON.stringify(def.name)}): ${problems.join('; ')}`);
  }
}

/**
 * Defaults under options: plain objects merge key by key, recursively; anything else (strings,
 * numbers, arrays, steps, `null`) given by the user replaces the default.
 */
export function mergeOptions<T extends object>(defaults: T, options: T): T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options) as [string, unknown][]) {
    if (value === undefined) continue;
    const base = out[key];
    out[key] =
      isPlainObject(base) && isPlainObject(value) && !isDslValue(value) ? mergeOptions<object>(base, value) : value;
  }
  return out as T;
}

/** DSL values (steps, mounts, args) are plain objects too, but they are leaves. */
function isDslValue(v: Record<string, unknown>): boolean {
  return typeof v.kind === 'string';
}
