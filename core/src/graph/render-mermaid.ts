/** The graph as a Mermaid flowchart, for Markdown that renders diagrams (GitHub, GitLab). */
import { drawGraph, type Box, type Cluster, type Edge } from './render-drawing.js';
import type { Graph } from './types.js';

export function renderMermaid(graph: Graph): string {
  const drawing = drawGraph(graph);
  const lines = [
    'flowchart TD',
    ...drawing.images.map((b) => `  ${box(b)}`),
    ...drawing.clusters.flatMap((c) => cluster(c, '  ')),
    ...drawing.edges.map((e) => `  ${edge(e)}`),
  ];
  return lines.join('\n') + '\n';
}

function cluster(c: Cluster, indent: string): string[] {
  return [
    `${indent}subgraph ${c.id}[${quote(c.label)}]`,
    ...c.boxes.map((b) => `${indent}  ${box(b)}`),
    ...c.clusters.flatMap((sub) => cluster(sub, indent + '  ')),
    `${indent}end`,
  ];
}

function box(b: Box): string {
  const label = quote(b.label);
  if (b.kind === 'from') return `${b.id}(${label})`;
  if (b.kind === 'image') return `${b.id}([${label}])`;
  return `${b.id}[${label}]`;
}

function edge(e: Edge): string {
  const arrow = e.kind === 'input' ? '-.->' : '-->';
  // Edge labels are fixed words (copy, bind, cache), so they need no quoting.
  return `${e.from} ${arrow}${e.label ? `|${e.label}|` : ''} ${e.to}`;
}

/**
 * A Mermaid quoted label. Quotes, angle brackets and `#` itself become entity codes (`#quot;`), the
 * only escape Mermaid has; `#` goes first so the codes it writes are not escaped again.
 */
function quote(text: string): string {
  const escaped = text.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
  return `"${escaped}"`;
}
