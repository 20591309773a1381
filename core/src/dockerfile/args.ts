/**
 * Which build args an image and each of its stages use, for `ARG` declarations (Dockerfile scoping:
 * global before the first FROM for FROM lines, again inside each stage that reads them).
 */
import { DiagnosticError, error } from '../diagnostics/index.js';
import type { Graph, ImageGraph, StageGraph } from '../graph/types.js';

/** Args BuildKit defines itself; a stage still has to declare them (`ARG TARGETARCH`) to read them. */
const BUILTIN = new Set([
  'TARGETPLATFORM',
  'TARGETOS',
  'TARGETARCH',
  'TARGETVARIANT',
  'BUILDPLATFORM',
  'BUILDOS',
  'BUILDARCH',
  'BUILDVARIANT',
]);

export function findImage(graph: Graph, name: string): ImageGraph {
  const image = graph.images.find((i) => i.name === name);
  if (!image) {
    const known = graph.images.map((i) => i.name).join(', ') || 'none';
    throw new DiagnosticError([error('DD150', `unknown image "${name}" (images: ${known})`)]);
  }
  return image;
}

/** Images a stage copies or mounts from (`COPY --from=<image>`, `--mount=…,from=<image>`). */
export function fromRefs(stage: StageGraph): string[] {
  const refs: string[] = [];
  for (const node of stage.nodes) {
    if (node.op === 'copy' && node.from.kind === 'image') refs.push(node.from.ref);
    if (node.op === 'run') {
      for (const m of node.mounts) {
        if ((m.type === 'cache' || m.type === 'bind') && m.from?.kind === 'image') refs.push(m.from.ref);
      }
    }
  }
  return refs;
}

/** Args to redeclare right after a stage's FROM: declared ones in `graph.args` order, then built-ins. */
export function stageArgs(graph: Graph, stage: StageGraph): string[] {
  const used = new Set(stage.nodes.flatMap((n) => n.args));
  const declared = graph.args.filter((a) => used.has(a.name)).map((a) => a.name);
  const builtin = [...used].filter((a) => BUILTIN.has(a) && !declared.includes(a)).sort();
  return [...declared, ...builtin];
}
