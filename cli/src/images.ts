import { DiagnosticError, error, type Graph } from '@drydock/core';

/** Checks IMAGE arguments against the config's images: each unknown one is a DD150 naming those that exist. */
export function checkImageNames(graph: Graph, names: readonly string[]): void {
  const known = graph.images.map((i) => i.name);
  const unknown = [...new Set(names)].filter((n) => !known.includes(n));
  if (unknown.length === 0) return;
  throw new DiagnosticError(
    unknown.map((n) => error('DD150', `unknown image "${n}" (images: ${known.join(', ') || 'none'})`)),
  );
}
