/**
 * The text form of the graph: per image, its stages in build order, each node one line
 * `<12 hex of its digest>  <instruction>`, with the args it uses. A stage's FROM line carries
 * its base digest, so every line that changes shows a new digest.
 */
import { fromLine, instructionLine, oneLine, shortDigest } from './render-instruction.js';
import type { ArgBinding, BakedArg, Graph, ImageGraph, StageGraph } from './types.js';

export function renderText(graph: Graph): string {
  const blocks = [header(graph), ...graph.images.map((image) => imageBlock(image, graph))];
  return blocks
    .filter((b) => b.length > 0)
    .map((b) => b.join('\n') + '\n')
    .join('\n');
}

function header(graph: Graph): string[] {
  const lines: string[] = [];
  if (graph.args.length > 0) lines.push(`args     ${graph.args.map(argValue).join(', ')}`);
  if (graph.secrets.length > 0) lines.push(`secrets  ${graph.secrets.join(', ')}`);
  return lines;
}

function argValue(a: ArgBinding): string {
  if (a.value === undefined) return `${a.name} (no value)`;
  return `${a.name}=${oneLine(a.value)} (${a.given ? 'given' : 'default'})`;
}

function imageBlock(image: ImageGraph, graph: Graph): string[] {
  const argNames = graph.args.map((a) => a.name);
  const lines = [`image ${image.name}  target ${image.target}  digest ${shortDigest(image.digest)}`];
  const field = (name: string, value: string) => lines.push(`  ${name.padEnd(13)}${oneLine(value)}`);
  if (image.description) field('description', image.description);
  field('context', image.context);
  if (image.tags.length > 0) field('tags', image.tags.join(', '));
  if (image.platforms.length > 0) field('platforms', image.platforms.join(', '));
  if (image.ignore.length > 0) field('ignore', image.ignore.join(', '));
  if (image.baked.length > 0) field('baked', image.baked.map(bakedArg).join(', '));
  for (const stage of image.stages) lines.push('', ...stageBlock(stage, argNames));
  return lines;
}

function bakedArg(b: BakedArg): string {
  const why = b.reason === 'branch' ? 'the config branches on it' : `${b.where ?? 'it'} cannot expand args`;
  return `${b.name}=${b.value} (${why})`;
}

function stageBlock(stage: StageGraph, argNames: string[]): string[] {
  const needs = stage.dependsOn.length > 0 ? `  needs ${stage.dependsOn.join(', ')}` : '';
  const from = stage.base.kind === 'image' ? argsIn(stage.base.ref, argNames) : [];
  return [
    `  stage ${stage.name}${needs}`,
    nodeLine(stage.baseDigest, fromLine(stage), from),
    ...stage.nodes.map((n) => nodeLine(n.id, instructionLine(n), n.args)),
  ];
}

function nodeLine(digest: string, instruction: string, args: readonly string[]): string {
  const uses = args.length > 0 ? `  [args: ${args.join(', ')}]` : '';
  return `    ${shortDigest(digest)}  ${instruction}${uses}`;
}

/** Declared args a string refers to as `$NAME` or `${NAME…}`, in order of first use. */
export function argsIn(text: string, argNames: readonly string[]): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)) {
    const name = m[1] ?? m[2]!;
    if (argNames.includes(name) && !found.includes(name)) found.push(name);
  }
  return found;
}
