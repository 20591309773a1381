import { posix } from 'node:path';
import { error, type Diagnostic } from '../diagnostics/index.js';
import type { AnyConfig, ProjectFiles, StageContext, StageDef } from '../dsl/types.js';
import { digestOf } from '../graph/hash.js';
import {
  GRAPH_VERSION,
  type BakedArg,
  type BaseRef,
  type Graph,
  type ImageGraph,
  type Node,
  type StageGraph,
} from '../graph/types.js';
import { resolveArgs, type ArgValue } from './args.js';
import { IMAGE_NAME, PLATFORM, STAGE_NAME } from './checks.js';
import { evaluateStages } from './evaluate.js';
import { lowerStage, type LoweredStage } from './lower.js';
import { emptyProject } from '../preset/empty.js';
import { orderStages } from './order.js';
import { Words } from './words.js';

export interface CompileOptions {
  /** Raw `--arg NAME=VALUE` values, validated against the declared types. */
  args?: Readonly<Record<string, string>>;
  /**
   * A read-only view of an image's build context (`context` as the config gives it, normalized,
   * relative to the config's directory), for stage functions and presets that inspect the
   * project. Without it they see an empty project: compile itself never touches the file system.
   */
  project?: (context: string) => ProjectFiles;
}

export interface CompileResult {
  graph: Graph;
  /** Every problem found; the graph is only meaningful when there are no errors. */
  diagnostics: Diagnostic[];
}

/**
 * Config + arg values → instruction graph. Pure: no file system, network or clock, so the same
 * config and args always give the same graph, byte for byte.
 */
export function compile(config: AnyConfig, options: CompileOptions = {}): CompileResult {
  const diagnostics: Diagnostic[] = [];
  if (config === null || typeof config !== 'object' || typeof config.images !== 'object' || config.images === null) {
    diagnostics.push(
      error('DD102', 'the config has no images', { hint: 'export default defineConfig({ images: { … } })' }),
    );
    return { graph: { version: GRAPH_VERSION, args: [], secrets: [], images: [] }, diagnostics };
  }
  const argSpecs = config.args ?? {};
  const resolved = resolveArgs(argSpecs, options.args ?? {});
  diagnostics.push(...resolved.diagnostics);
  const secretIds = Object.keys(config.secrets ?? {});
  for (const [id, spec] of Object.entries(config.secrets ?? {})) {
    if (spec?.kind !== 'secret') {
      diagnostics.push(
        error('DD103', `secret "${id}" is not declared with secret.env/file/command`, {
          path: { field: 'secrets', value: id },
        }),
      );
    }
  }

  const images: ImageGraph[] = [];
  const project = options.project ?? emptyProject;
  for (const [name, def] of Object.entries(config.images)) {
    const image = compileImage(name, def, {
      argNames: Object.keys(argSpecs),
      values: resolved.values,
      secretIds,
      project,
      diagnostics,
    });
    if (image) images.push(image);
  }
  checkDuplicateTags(images, diagnostics);

  return {
    graph: { version: GRAPH_VERSION, args: resolved.bindings, secrets: secretIds, images },
    diagnostics,
  };
}

interface ImageInput {
  argNames: string[];
  values: Readonly<Record<string, ArgValue>>;
  secretIds: string[];
  project: (context: string) => ProjectFiles;
  diagnostics: Diagnostic[];
}

type AnyImageDef = AnyConfig['images'][string];

function compileImage(name: string, def: AnyImageDef, input: ImageInput): ImageGraph | undefined {
  const { diagnostics } = input;
  const path = { image: name };
  if (!IMAGE_NAME.test(name)) {
    diagnostics.push(
      error('DD113', `image name "${name}" is not allowed`, {
        path,
        hint: 'use lowercase letters, digits, ., _ and -, starting with a letter or digit (it names files and bake targets)',
      }),
    );
  }
  if (def === null || typeof def !== 'object' || (!('stages' in def) && !('stage' in def))) {
    diagnostics.push(
      error('DD114', `image "${name}" has no stages`, { path, hint: 'give it stages: { … } or stage: { … }' }),
    );
    return undefined;
  }

  // A single-stage image is a one-stage map named after the image. The context is built by
  // evaluateStages to match the config's declared args and secrets, hence the casts to `never`.
  const produce =
    'stages' in def
      ? (ctx: StageContext<never, never>) =>
          (typeof def.stages === 'function' ? def.stages(ctx as never) : def.stages) as Record<string, StageDef>
      : (ctx: StageContext<never, never>) => ({
          [name]: (typeof def.stage === 'function' ? def.stage(ctx as never) : def.stage) as StageDef,
        });
  const context = normalizeContext(def.context ?? '.', name, diagnostics);
  const { project, ...rest } = input;
  const evaluated = evaluateStages({ image: name, produce, ...rest, project: project(context) });
  if (!evaluated) return undefined;
  const stageNames = Object.keys(evaluated.stages);
  if (stageNames.length === 0) {
    diagnostics.push(error('DD114', `image "${name}" has no stages`, { path }));
    return undefined;
  }
  checkStageNames(name, stageNames, diagnostics);

  const stringValues = Object.fromEntries(Object.entries(input.values).map(([k, v]) => [k, String(v)]));
  const baked = new Map<string, BakedArg>(
    evaluated.branched.map((n) => [n, { name: n, value: stringValues[n] ?? '', reason: 'branch' }]),
  );
  const words = new Words(stringValues, baked);
  const lowered = new Map<string, LoweredStage>();
  for (const stage of stageNames) {
    lowered.set(
      stage,
      lowerStage(stage, evaluated.stages[stage]!, {
        image: name,
        stageNames,
        secretIds: input.secretIds,
        words,
        diagnostics,
      }),
    );
  }

  const target = 'stages' in def && def.target !== undefined ? def.target : stageNames[stageNames.length - 1]!;
  if (!lowered.has(target)) {
    diagnostics.push(
      error('DD110', `image "${name}": target "${target}" is not a stage`, {
        path: { image: name, field: 'target', value: target },
        hint: `stages: ${stageNames.join(', ')}`,
      }),
    );
    return undefined;
  }
  const stages = withDigests(orderStages(name, target, lowered, diagnostics));
  const last = stages.find((s) => s.name === target)!;
  const lastId = last.nodes.at(-1)?.id ?? last.baseDigest;
  const usedArgs = [...new Set(stages.flatMap((s) => [...baseArgs(s.base), ...s.nodes.flatMap((n) => n.args)]))].sort();

  for (const p of def.platforms ?? []) {
    if (!PLATFORM.test(p))
      diagnostics.push(
        error('DD160', `image "${name}": platform "${p}" is not os/arch[/variant]`, {
          path: { ...path, field: 'platforms', value: p },
        }),
      );
  }
  return {
    name,
    context,
    ignore: [...(def.ignore ?? [])],
    tags: [...(def.tags ?? [])],
    platforms: [...(def.platforms ?? [])],
    ...(def.description === undefined ? {} : { description: def.description }),
    target,
    stages,
    baked: [...baked.values()].sort((a, b) => a.name.localeCompare(b.name)),
    digest: digestOf({ node: lastId, args: usedArgs.map((a) => [a, stringValues[a]]) }),
  };
}

function baseArgs(base: BaseRef): string[] {
  const refs =
    base.kind === 'image' ? [base.ref, base.platform ?? ''] : base.kind === 'stage' ? [base.platform ?? ''] : [];
  return refs.flatMap((r) => [...r.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!));
}

/** Assigns definition digests in dependency order: op + parent digest + digests of stages read. */
function withDigests(ordered: LoweredStage[]): StageGraph[] {
  const lastOf = new Map<string, string>();
  return ordered.map((stage) => {
    const baseDigest =
      stage.base.kind === 'stage'
        ? digestOf({ stage: lastOf.get(stage.base.stage), platform: stage.base.platform })
        : digestOf(stage.base);
    let parent = baseDigest;
    const nodes: Node[] = stage.ops.map(({ op, args, reads, loc }) => {
      const inputs = reads.map((r) => lastOf.get(r) ?? digestOf({ missing: r }));
      const id = digestOf({ op, parent, inputs });
      const node: Node = { ...op, id, parent, inputs, args, ...(loc ? { loc } : {}) };
      parent = id;
      return node;
    });
    lastOf.set(stage.name, parent);
    return {
      name: stage.name,
      base: stage.base,
      baseDigest,
      nodes,
      dependsOn: stage.dependsOn,
      ...(stage.loc ? { loc: stage.loc } : {}),
    };
  });
}

function checkStageNames(image: string, names: string[], diagnostics: Diagnostic[]): void {
  const seen = new Map<string, string>();
  for (const stage of names) {
    if (!STAGE_NAME.test(stage)) {
      diagnostics.push(
        error('DD113', `image "${image}": stage name "${stage}" is not allowed`, {
          path: { image, stage },
          hint: 'start with a letter; use letters, digits, ., _ and -',
        }),
      );
    }
    const lower = stage.toLowerCase();
    const other = seen.get(lower);
    if (other !== undefined) {
      diagnostics.push(
        error('DD112', `image "${image}": stages "${other}" and "${stage}" differ only in case`, {
          path: { image, stage },
          hint: 'Dockerfile stage names are case-insensitive',
        }),
      );
    }
    seen.set(lower, stage);
  }
}

function normalizeContext(context: string, image: string, diagnostics: Diagnostic[]): string {
  if (typeof context !== 'string' || context === '' || posix.isAbsolute(context) || /^[a-zA-Z]:[\\/]/.test(context)) {
    diagnostics.push(
      error('DD122', `image "${image}": context "${context}" must be a path relative to the config file`, {
        path: { image, field: 'context', value: String(context) },
      }),
    );
    return '.';
  }
  return posix.normalize(context.replaceAll('\\', '/')).replace(/\/$/, '') || '.';
}

function checkDuplicateTags(images: ImageGraph[], diagnostics: Diagnostic[]): void {
  const owner = new Map<string, string>();
  for (const image of images) {
    for (const tag of image.tags) {
      const other = owner.get(tag);
      if (other !== undefined && other !== image.name) {
        diagnostics.push(
          error('DD112', `tag "${tag}" is given to both image "${other}" and image "${image.name}"`, {
            path: { image: image.name, field: 'tags', value: tag },
          }),
        );
      }
      owner.set(tag, image.name);
    }
  }
}
