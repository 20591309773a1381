/**
 * `drydock graph`: the instruction graph as text, Graphviz dot, Mermaid or JSON. Every format is
 * a pure function of the graph, so the output is deterministic and diffable.
 */
import { relative } from 'node:path';
import { DiagnosticError, error } from '../diagnostics/index.js';
import { renderDot } from './render-dot.js';
import { renderMermaid } from './render-mermaid.js';
import { renderText } from './render-text.js';
import type { Graph } from './types.js';

export type GraphFormat = 'text' | 'dot' | 'mermaid' | 'json';

export interface RenderOptions {
  /** Only these images (all when absent or empty); an unknown name is a DD150 error. */
  images?: readonly string[];
  /** For json: write `loc.file` relative to this directory (the config's), so the output is portable. */
  relativeTo?: string;
}

export function renderGraph(graph: Graph, format: GraphFormat, options: RenderOptions = {}): string {
  const selected = selectImages(graph, options.images);
  switch (format) {
    case 'text':
      return renderText(selected);
    case 'dot':
      return renderDot(selected);
    case 'mermaid':
      return renderMermaid(selected);
    case 'json':
      return JSON.stringify(selected, portableLocs(options.relativeTo), 2) + '\n';
    default:
      throw new Error(`unknown graph format ${JSON.stringify(format)}`);
  }
}

/** The graph restricted to the named images, in the graph's own order. */
function selectImages(graph: Graph, names: readonly string[] | undefined): Graph {
  if (!names || names.length === 0) return graph;
  const known = graph.images.map((i) => i.name);
  const unknown = [...new Set(names)].filter((n) => !known.includes(n));
  if (unknown.length > 0) {
    throw new DiagnosticError(
      unknown.map((n) => error('DD150', `unknown image "${n}" (images: ${known.join(', ') || 'none'})`)),
    );
  }
  return { ...graph, images: graph.images.filter((i) => names.includes(i.name)) };
}

/** A JSON replacer that rewrites absolute call-site files against `dir`, with posix separators. */
function portableLocs(dir: string | undefined): ((key: string, value: unknown) => unknown) | undefined {
  if (dir === undefined) return undefined;
  return (key, value) =>
    key === 'file' && typeof value === 'string' ? relative(dir, value).split('\\').join('/') : value;
}
