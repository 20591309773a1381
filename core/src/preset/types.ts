/**
 * The preset contract. A preset is a typed function from options to the plain data the DSL uses:
 * a whole image (`node({ … })`) or stages to splice into one (`node.stages(ctx, { … })`). It looks
 * at the project only through `ProjectFiles` and does nothing when imported.
 *
 * Its author names every step, so users can change any of them by name: replace or remove one
 * (`steps`), add steps around one (`before`, `after`), or set stage fields (`override`).
 */
import type { ProjectFiles, StageContext, StageDef, StagesDef, Step } from '../dsl/types.js';

/** Checks one option's value (never undefined): undefined when fine, else what is allowed ("an integer from 1 to 65535"). */
export type OptionCheck = (value: unknown) => string | undefined;

/** Why a preset fits a project, as `detect` says it. */
export interface PresetMatch {
  /** One line naming what was found, e.g. "package.json and pnpm-lock.yaml (pnpm)". */
  readonly reason: string;
}

/** A step, several steps in order, or nothing. */
export type StepValue<N extends string> = Step<N> | readonly Step<N>[];

/** A stage as a preset writes it: a `StageDef` whose steps are named, in order. */
export type PresetStage<N extends string, K extends string> = Omit<StageDef<N>, 'steps'> & {
  /**
   * The named steps in order (object key order). `undefined` leaves a step out here but keeps its
   * place, so `steps`, `before` and `after` from the user can still put steps there. A name may
   * appear in several stages (each gets the same change).
   */
  readonly steps?: { readonly [S in K]?: StepValue<N> | undefined };
};

export type PresetStages<N extends string, K extends string> = { readonly [S in N]: PresetStage<N, K> };

/** What every preset accepts on top of its own options. */
export interface PresetOverrides<N extends string, K extends string> {
  /** Replace named steps (with a step or a list of steps), or remove them (`null`). */
  steps?: { readonly [S in K]?: StepValue<N> | null };
  /** Steps to run just before a named step (also where the step was left out). */
  before?: { readonly [S in K]?: readonly Step<N>[] };
  /** Steps to run just after a named step (also where the step was left out). */
  after?: { readonly [S in K]?: readonly Step<N>[] };
  /**
   * Stage fields to set, by stage: `env` and `labels` are merged into the preset's (yours win),
   * any other field (from, user, cmd, expose, healthcheck, …) replaces the preset's.
   */
  override?: { readonly [S in N]?: Omit<Partial<StageDef<N>>, 'steps'> };
}

/** Image fields, for the whole-image form. */
export interface PresetImageFields {
  /** Build context, relative to the config file (default: the config's directory). */
  context?: string;
  /** Ignore patterns added after the preset's own and the context's `.dockerignore`. */
  ignore?: readonly string[];
  tags?: readonly string[];
  platforms?: readonly string[];
  description?: string;
}

/** What `preset.stages(ctx, options)` takes: the preset's options and the overrides. */
export type PresetOptions<O, N extends string, K extends string> = O & PresetOverrides<N, K>;
/** What `preset(options)` takes: the above plus the image's own fields. */
export type PresetImageOptions<O, N extends string, K extends string> = PresetOptions<O, N, K> & PresetImageFields;

/** What a preset's `stages` receives besides its options. */
export interface PresetContext {
  /** The image's build context, read-only. */
  readonly project: ProjectFiles;
}

/**
 * The stage context a preset image's stages function accepts: any config's (its args and secrets
 * are not the preset's business), so the image fits `defineConfig` whatever args it declares.
 */
export interface AnyStageContext {
  readonly project: ProjectFiles;
  readonly args: object;
  readonly secrets: object;
}

/** The whole-image form's result: an image def like any other, its target the preset's. */
export interface PresetImage<N extends string> extends PresetImageFields {
  stages: (ctx: AnyStageContext) => StagesDef<N>;
  target: N;
}

/** Where a preset comes from, so `drydock init` can write the import for it. */
export interface PresetIdentity {
  /** Short name users pick it by (`drydock init --preset node`); lowercase letters, digits and dashes. */
  readonly name: string;
  /** The npm package that exports it. */
  readonly package: string;
  /** The name it is exported under. */
  readonly importName: string;
  /** One line, for listings. */
  readonly description: string;
}

export interface PresetDefinition<O extends object, N extends string, K extends string> extends PresetIdentity {
  /** Every stage `stages` returns, in order. */
  readonly stageNames: readonly N[];
  /** The stage the image is made of. */
  readonly target: NoInfer<N>;
  /** Every step name `stages` may use, in order: the names users override. */
  readonly stepNames: readonly K[];
  /** A check for each option of the preset's own (the overrides and image fields are checked for it). */
  readonly options: { readonly [P in keyof O]-?: OptionCheck };
  /** Ignore patterns the whole-image form starts with (before the user's `ignore`). */
  readonly ignore?: readonly string[];
  /** Whether the preset fits the project; read-only, no side effects. */
  detect(project: ProjectFiles): PresetMatch | undefined;
  /**
   * The stages, from valid options (overrides included, so a preset can tell that the user
   * supplied a step it would otherwise leave out) and the project. Pure: same inputs, same stages.
   */
  stages(options: PresetOptions<O, N, K>, ctx: PresetContext): PresetStages<N, K>;
}

/** Team defaults for `preset.extend`: a new preset under another name, with other defaults. */
export interface PresetExtension<O, N extends string, K extends string> extends Partial<PresetIdentity> {
  readonly name: string;
  readonly package: string;
  readonly importName: string;
  /**
   * Options applied under the user's: plain objects merge key by key (so `override.runtime.labels`
   * from both survive), anything else (strings, arrays, steps) is replaced by the user's value.
   */
  readonly defaults?: PresetImageOptions<O, N, K>;
  /** Detection (default: the extended preset's). */
  readonly detect?: (project: ProjectFiles) => PresetMatch | undefined;
}

/** A preset: call it for a whole image, or use `stages` to splice its stages into an image. */
export interface Preset<O extends object, N extends string, K extends string> extends PresetIdentity {
  (options?: PresetImageOptions<O, N, K>): PresetImage<N>;
  /**
   * The stages alone, for an image you write yourself: `stages: (ctx) => ({ ...node.stages(ctx, { … }), more: … })`.
   * Inside a stages function your args and secrets are at hand, typed, for the options.
   */
  stages(ctx: Pick<StageContext<never, never>, 'project'>, options?: PresetOptions<O, N, K>): StagesDef<N>;
  /** A preset with these defaults under the user's options (a team's preset package). */
  extend(extension: PresetExtension<O, N, K>): Preset<O, N, K>;
  detect(project: ProjectFiles): PresetMatch | undefined;
  readonly kind: 'preset';
  /** `import { node } from '@drydock/preset-node';` */
  readonly importSnippet: string;
  readonly target: N;
  readonly stageNames: readonly N[];
  readonly stepNames: readonly K[];
  /** The preset's own option names (besides steps, before, after, override and the image fields). */
  readonly optionNames: readonly string[];
  /** The ignore patterns the whole-image form uses, for images written with `stages`. */
  readonly ignore: readonly string[];
}
