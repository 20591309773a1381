/** The graph as a Graphviz digraph (`drydock graph --format dot | dot -Tsvg > graph.svg`). */
import { drawGraph, type Box, type Cluster, type Edge } from './render-drawing.js';
import type { Graph } from './types.js';

export function renderDot(graph: Graph): string {
  const drawing = drawGraph(graph);
  const lines = [
    'digraph drydock {',
    '  graph [rankdir=TB, fontname="monospace", fontsize=11];',
    '  node [shape=box, fontname="monospace", fontsize=10];',
    '  edge [fontname="monospace", fontsize=9];',
    ...drawing.images.map((b) => `  ${box(b)}`),
    ...drawing.clusters.flatMap((c) => cluster(c, '  ')),
    ...drawing.edges.map((e) => `  ${edge(e)}`),
    '}',
  ];
  return lines.join('\n') + '\n';
}

function cluster(c: Cluster, indent: string): string[] {
  return [
    `${indent}subgraph cluster_${c.id} {`,
    `${indent}  label=${quote(c.label)};`,
    ...c.boxes.map((b) => `${indent}  ${box(b)}`),
    ...c.clusters.flatMap((sub) => cluster(sub, indent + '  ')),
    `${indent}}`,
  ];
}

const styles: Record<Box['kind'], string> = {
  from: ', style="rounded,bold"',
  step: '',
  image: ', shape=ellipse',
};

function box(b: Box): string {
  return `${b.id} [label=${quote(b.label)}${styles[b.kind]}];`;
}

function edge(e: Edge): string {
  const attrs = [...(e.kind === 'input' ? ['style=dashed'] : []), ...(e.label ? [`label=${quote(e.label)}`] : [])];
  return `${e.from} -> ${e.to}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`;
}

/** A dot double-quoted string; backslashes are escapes there (`\n`, `\l`), so they are doubled. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
