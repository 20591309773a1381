import { renderGraph, type GraphFormat } from '@drydock/core';
import { openProject, stringOption, type Command } from '../context.js';
import { UsageError } from '../usage.js';

// A record, so adding a format to GraphFormat without listing it here is a type error.
const formats: Record<GraphFormat, true> = { text: true, dot: true, mermaid: true, json: true };

/** `drydock graph [IMAGE...] [-f FORMAT]`: the instruction graph on stdout. */
export const graph: Command = async (ctx) => {
  const format = parseFormat(stringOption(ctx, 'format') ?? 'text');
  const project = await openProject(ctx, { requireArgValues: false });
  ctx.out.printRaw(renderGraph(project.graph, format, { images: ctx.line.positionals, relativeTo: project.dir }));
  return 0;
};

function parseFormat(value: string): GraphFormat {
  if (Object.hasOwn(formats, value)) return value as GraphFormat;
  throw new UsageError(`unknown graph format "${value}" (formats: ${Object.keys(formats).join(', ')})`, 'graph');
}
