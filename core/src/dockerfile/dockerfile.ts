/**
 * Graph → the Dockerfile of one image: header comments, global ARGs, stages in graph order with
 * their ARGs redeclared, one instruction per node. Pure and deterministic: the same graph gives the
 * same bytes.
 */
import { DiagnosticError, error } from '../diagnostics/index.js';
import type { ArgBinding, BakedArg, Graph, ImageGraph, Source, StageGraph } from '../graph/types.js';
import { findImage, fromRefs, stageArgs } from './args.js';
import { opFeatures, syntaxHeader, type FeatureId } from './features.js';
import { renderOp, type RenderContext } from './instructions.js';
import { flag, hasLineBreak, literal, referencedNames, substitute } from './quote.js';

export interface EmitDockerfileOptions {
  /** The config file as the Dockerfile's reader should find it: relative to the output directory. */
  configFile: string;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

export function emitDockerfile(graph: Graph, image: string, options: EmitDockerfileOptions): string {
  const plan = planDockerfile(graph, findImage(graph, image));
  const sections: string[] = [header(plan.image, options.configFile, plan.features, plan.inlined)];
  if (plan.args.length) {
    sections.push(plan.args.map(argLine).join('\n'));
  }
  if (plan.aliases.size) {
    sections.push(
      [
        '# COPY --from and mount from= do not expand build args, so these images get a stage of their own',
        ...[...plan.aliases].map(([ref, name]) => `FROM ${ref} AS ${name}`),
      ].join('\n'),
    );
  }
  sections.push(...plan.stages);
  return sections.join('\n\n') + '\n';
}

/** The build args an image's Dockerfile declares (and so the ones worth passing to a build of it). */
export function dockerfileArgs(graph: Graph, image: string): ArgBinding[] {
  return planDockerfile(graph, findImage(graph, image)).args;
}

/**
 * The args each stage of an image's Dockerfile redeclares after its FROM, in order, by stage name:
 * BuildKit's history of the image has an `ARG` entry for each, and its RUN entries list them. For an
 * image no Dockerfile can express (a value with a line break), the args each stage uses: a native
 * build of it must not fail for what only the emitter cannot write.
 */
export function stageArgDeclarations(graph: Graph, image: string): Map<string, string[]> {
  const img = findImage(graph, image);
  try {
    return planDockerfile(graph, img).declared;
  } catch (error) {
    if (!(error instanceof DiagnosticError)) throw error;
    return new Map(img.stages.map((stage) => [stage.name, stageArgs(graph, stage)]));
  }
}

interface Plan {
  image: ImageGraph;
  /** Declared before the first FROM, in `graph.args` order. */
  args: ArgBinding[];
  aliases: Map<string, string>;
  /** Each stage's text: FROM, its ARGs, its instructions. */
  stages: string[];
  /** The args each stage redeclares, by stage name. */
  declared: Map<string, string[]>;
  features: Set<FeatureId>;
  inlined: BakedArg[];
}

function planDockerfile(graph: Graph, img: ImageGraph): Plan {
  const values = new Map(graph.args.flatMap((a) => (a.value === undefined ? [] : [[a.name, a.value] as const])));
  const aliases = planAliases(img);
  const features = new Set<FeatureId>();
  const inlined: BakedArg[] = [];
  const globals = new Set<string>();
  const stages: string[] = [];
  const declared = new Map<string, string[]>();
  const finalShell = new Map<string, readonly string[]>();

  for (const ref of [...aliases.keys()]) referencedNames(ref).forEach((n) => globals.add(n));
  for (const stage of img.stages) {
    let shell: readonly string[] =
      stage.base.kind === 'stage' ? (finalShell.get(stage.base.stage) ?? DEFAULT_SHELL) : DEFAULT_SHELL;
    const from = fromLine(stage);
    referencedNames(from).forEach((n) => globals.add(n));
    const instructions: string[] = [];
    for (const node of stage.nodes) {
      opFeatures(node).forEach((f) => features.add(f));
      const ctx: RenderContext = {
        shell,
        fromName: (source) => fromName(source, aliases),
        inlineArgs: (s, where) => {
          for (const name of referencedNames(s)) {
            const value = values.get(name);
            if (value !== undefined && !inlined.some((b) => b.name === name && b.where === where)) {
              inlined.push({ name, value, reason: 'no-expansion', where });
            }
          }
          return substitute(s, values);
        },
      };
      instructions.push(renderOp(node, ctx));
      if (node.op === 'shell') shell = node.shell;
    }
    finalShell.set(stage.name, shell);
    // Redeclare only the args the stage's instructions still mention (aliased or inlined ones are gone).
    const mentioned = new Set(instructions.flatMap(referencedNames));
    const scoped = stageArgs(graph, stage).filter((a) => mentioned.has(a));
    scoped.forEach((a) => globals.add(a));
    declared.set(stage.name, scoped);
    stages.push([from, ...scoped.map((a) => `ARG ${a}`), ...instructions].join('\n'));
  }
  const args = graph.args.filter((a) => globals.has(a.name));
  return { image: img, args, aliases, stages, declared, features, inlined };
}

function argLine(a: ArgBinding): string {
  if (a.value === undefined) return `ARG ${a.name}`;
  if (hasLineBreak(a.value)) {
    const message = `cannot be written in a Dockerfile: the value of arg ${a.name} contains a line break`;
    throw new DiagnosticError([error('DD160', message)]);
  }
  return `ARG ${a.name}=${literal(a.value)}`;
}

function header(img: ImageGraph, configFile: string, features: Set<FeatureId>, inlined: BakedArg[]): string {
  const { directive, notes } = syntaxHeader(features);
  const lines: string[] = [];
  // The syntax directive only counts on the very first line.
  if (directive) lines.push(directive);
  lines.push(`# Generated by drydock from ${configFile}, image "${img.name}". Edit the config, then run: drydock emit`);
  if (img.description) lines.push(`# ${img.description.replace(/\s*[\r\n]+\s*/g, ' ')}`);
  lines.push(...notes);
  const seen = new Set<string>();
  for (const b of [...img.baked, ...inlined]) {
    const key = `${b.name}\0${b.reason}\0${b.where ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push(bakedLine(b, configFile));
  }
  return lines.join('\n');
}

function bakedLine(b: BakedArg, configFile: string): string {
  const value = /^[\w./:@%+,=~^-]*$/.test(b.value) && b.value !== '' ? b.value : JSON.stringify(b.value);
  if (b.reason === 'branch') {
    return `# ${b.name}=${value} is inlined: ${configFile} branches on it (re-emit with --arg ${b.name}=… to change)`;
  }
  const where = b.where ? ` in ${b.where}` : '';
  return `# ${b.name}=${value} is inlined${where}: Dockerfiles do not expand build args there`;
}

function fromLine(stage: StageGraph): string {
  const base = stage.base;
  const platform = base.kind !== 'scratch' && base.platform ? `--platform=${flag(base.platform)} ` : '';
  const ref = base.kind === 'scratch' ? 'scratch' : base.kind === 'image' ? base.ref : base.stage;
  return `FROM ${platform}${ref} AS ${stage.name}`;
}

/**
 * `COPY --from` and mount `from=` never expand variables, in any frontend; FROM does. So an image
 * reference with a variable gets a stage of its own (`FROM ${ref} AS drydock-ref-N`) to copy from.
 */
function planAliases(img: ImageGraph): Map<string, string> {
  const taken = new Set(img.stages.map((s) => s.name.toLowerCase()));
  const aliases = new Map<string, string>();
  let n = 1;
  for (const stage of img.stages) {
    for (const ref of fromRefs(stage)) {
      if (!ref.includes('$') || aliases.has(ref)) continue;
      let name = `drydock-ref-${n++}`;
      while (taken.has(name)) name = `drydock-ref-${n++}`;
      aliases.set(ref, name);
    }
  }
  return aliases;
}

function fromName(source: Exclude<Source, { kind: 'context' }>, aliases: ReadonlyMap<string, string>): string {
  return source.kind === 'stage' ? source.stage : (aliases.get(source.ref) ?? source.ref);
}
