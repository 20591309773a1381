/**
 * From a preset's named stages to plain `StageDef`s: the user's `steps`, `before`, `after` and
 * `override` applied, and the preset's own steps located at the config line that called it.
 */
import type { FromRef, ProjectFiles, SourceLoc, StageDef, Step } from '../dsl/types.js';
import { DiagnosticError, error } from '../diagnostics/index.js';
import { isPlainObject } from './check.js';
import type { PresetDefinition, PresetOptions, PresetStage, StepValue } from './types.js';

type AnyDefinition = PresetDefinition<object, string, string>;
type AnyOptions = PresetOptions<object, string, string>;

export function produceStages(
  def: AnyDefinition,
  options: AnyOptions,
  project: ProjectFiles,
  loc: SourceLoc | undefined,
): Record<string, StageDef> {
  const raw = def.stages(options, { project }) as Record<string, PresetStage<string, string>>;
  const produced = isPlainObject(raw) ? Object.keys(raw) : [];
  if (produced.join() !== def.stageNames.join()) {
    throw new Error(
      `preset ${def.name} (${def.package}) produced stages [${produced.join(', ')}], ` +
        `not the ones it declares [${def.stageNames.join(', ')}]: a bug in the preset, please report it`,
    );
  }
  const placed = new Map<string, string[]>();
  const stages: Record<string, StageDef> = {};
  for (const [stage, { steps = {}, ...fields }] of Object.entries(raw)) {
    const list: Step[] = [];
    for (const [name, value] of Object.entries(steps as Record<string, StepValue<string> | undefined>)) {
      if (!def.stepNames.includes(name)) {
        throw new Error(
          `preset ${def.name} (${def.package}) produced a step "${name}" it does not declare: a bug in the preset, please report it`,
        );
      }
      placed.set(name, [...(placed.get(name) ?? []), stage]);
      const replaced = options.steps !== undefined && Object.hasOwn(options.steps, name);
      const own = replaced ? undefined : value;
      list.push(...(options.before?.[name] ?? []));
      if (replaced) list.push(...asList(options.steps![name] ?? []));
      else if (own !== undefined) list.push(...asList(own).map((s) => locatedAt(s, loc)));
      list.push(...(options.after?.[name] ?? []));
    }
    stages[stage] = withOverride({ ...fields, steps: list } as StageDef, options.override?.[stage]);
  }
  checkPlacement(def, options, stages, placed, loc);
  return stages;
}

function asList(value: StepValue<string>): readonly Step[] {
  return Array.isArray(value) ? value : [value as Step];
}

/** `env` and `labels` merge; every other field set in the override replaces the preset's. */
function withOverride(stage: StageDef, patch: Partial<StageDef> | undefined): StageDef {
  if (!patch) return stage;
  const merged: StageDef = { ...stage, ...patch };
  if (patch.env && stage.env) (merged as { env: StageDef['env'] }).env = { ...stage.env, ...patch.env };
  if (patch.labels && stage.labels)
    (merged as { labels: StageDef['labels'] }).labels = { ...stage.labels, ...patch.labels };
  return merged;
}

/**
 * The preset's steps were made inside its package, so their call sites point there; what the user
 * can act on is the line that called the preset. The user's own steps keep their lines.
 */
function locatedAt(step: Step, loc: SourceLoc | undefined): Step {
  if (!loc) return step;
  if (step.op === 'run') return { ...step, loc, mounts: step.mounts.map((m) => ({ ...m, loc })) };
  return { ...step, loc };
}

/** Every step the user named must be in a stage the image is built from, or the change would be lost. */
function checkPlacement(
  def: AnyDefinition,
  options: AnyOptions,
  stages: Record<string, StageDef>,
  placed: ReadonlyMap<string, string[]>,
  loc: SourceLoc | undefined,
): void {
  const used = usedStages(stages, def.target);
  const problems: string[] = [];
  for (const key of ['steps', 'before', 'after'] as const) {
    for (const name of Object.keys(options[key] ?? {})) {
      const where = placed.get(name) ?? [];
      if (where.some((s) => used.has(s))) continue;
      problems.push(
        where.length === 0
          ? `${key}.${name}: preset ${def.name} has no step "${name}" for this project`
          : `${key}.${name}: step "${name}" belongs to stage ${where.map((s) => `"${s}"`).join(', ')}, ` +
              `which this project's image does not use (stages used: ${[...used].join(', ')})`,
      );
    }
  }
  if (problems.length) throw presetError(def.name, problems, loc);
}

/** The target and every stage it reads from, through `from`, `copy({ from })` and mounts. */
export function usedStages(stages: Record<string, StageDef>, target: string): Set<string> {
  const used = new Set<string>();
  const visit = (name: string): void => {
    const stage = stages[name];
    if (!stage || used.has(name)) return;
    used.add(name);
    const refs: (FromRef<string> | undefined)[] = [stage.from];
    for (const step of stage.steps ?? []) {
      if (step.op === 'copy') refs.push(step.from);
      if (step.op === 'run') for (const m of step.mounts) if ('from' in m) refs.push(m.from as FromRef<string>);
    }
    for (const ref of refs) if (typeof ref === 'string' && ref in stages) visit(ref);
  };
  visit(target);
  return used;
}

/** The user's problems with a preset's options, each a DD160 at the line that called the preset. */
export function presetError(preset: string, problems: readonly string[], loc: SourceLoc | undefined): DiagnosticError {
  return new DiagnosticError(
    problems.map((m) => error('DD160', m.startsWith('preset ') ? m : `preset ${preset}: ${m}`, loc ? { loc } : {})),
  );
}
