/**
 * The graph as boxes and arrows, shared by the dot and Mermaid renderers so both draw the same
 * picture: one cluster per image, one sub-cluster per stage, a box per FROM and per node, solid
 * arrows from a node's parent, dashed arrows from the stages and images a node reads.
 *
 * Box ids are positional (`n0`, `n1`, …), not digests: identical steps in two stages, or in two
 * images, have the same digest but are drawn where they are used.
 */
import { fromLine, instructionLine, shortDigest } from './render-instruction.js';
import type { Graph, MountSpec, Node, Source } from './types.js';

export interface Box {
  id: string;
  label: string;
  kind: 'from' | 'step' | 'image';
}

export interface Cluster {
  id: string;
  label: string;
  boxes: Box[];
  clusters: Cluster[];
}

export interface Edge {
  from: string;
  to: string;
  /** `parent`: the step builds on it; `input`: the step reads files from it. */
  kind: 'parent' | 'input';
  label?: string;
}

export interface Drawing {
  clusters: Cluster[];
  /** Boxes outside every image: images steps read from (COPY --from=<image>, mounts from an image). */
  images: Box[];
  edges: Edge[];
}

/** Labels longer than this are cut: the text and JSON formats carry the full instruction. */
const MAX_LABEL = 80;

export function drawGraph(graph: Graph): Drawing {
  let next = 0;
  const newId = (prefix: string) => `${prefix}${next++}`;
  const drawing: Drawing = { clusters: [], images: [], edges: [] };
  const externalBoxes = new Map<string, string>();
  const external = (label: string): string => {
    let id = externalBoxes.get(label);
    if (!id) {
      id = newId('n');
      externalBoxes.set(label, id);
      drawing.images.push({ id, label: cut(label), kind: 'image' });
    }
    return id;
  };

  for (const image of graph.images) {
    const cluster: Cluster = { id: newId('c'), label: `image ${image.name}`, boxes: [], clusters: [] };
    drawing.clusters.push(cluster);
    /** The box a stage ends in, for arrows from stages that build on or read from it. */
    const exits = new Map<string, string>();
    const pending: { stage: string; to: string; kind: Edge['kind']; label?: string }[] = [];

    for (const stage of image.stages) {
      const sc: Cluster = { id: newId('c'), label: `stage ${stage.name}`, boxes: [], clusters: [] };
      cluster.clusters.push(sc);
      const from: Box = {
        id: newId('n'),
        label: cut(`${shortDigest(stage.baseDigest)}  ${fromLine(stage)}`),
        kind: 'from',
      };
      sc.boxes.push(from);
      if (stage.base.kind === 'stage') pending.push({ stage: stage.base.stage, to: from.id, kind: 'parent' });
      let previous = from.id;
      for (const node of stage.nodes) {
        const box: Box = {
          id: newId('n'),
          label: cut(`${shortDigest(node.id)}  ${instructionLine(node)}`),
          kind: 'step',
        };
        sc.boxes.push(box);
        drawing.edges.push({ from: previous, to: box.id, kind: 'parent' });
        for (const read of reads(node)) {
          if (read.source.kind === 'stage') {
            pending.push({ stage: read.source.stage, to: box.id, kind: 'input', label: read.label });
          } else if (read.source.kind === 'image') {
            drawing.edges.push({
              from: external(`image ${read.source.ref}`),
              to: box.id,
              kind: 'input',
              label: read.label,
            });
          }
        }
        previous = box.id;
      }
      exits.set(stage.name, previous);
    }
    // Stages come dependencies first, but arrows are resolved after all stages have boxes.
    for (const p of pending) {
      // A stage missing from the image would be a compiler bug; draw it rather than hide it.
      const from = exits.get(p.stage) ?? external(`stage ${p.stage} (not in image ${image.name})`);
      drawing.edges.push({ from, to: p.to, kind: p.kind, ...(p.label ? { label: p.label } : {}) });
    }
  }
  return drawing;
}

function reads(node: Node): { source: Source; label: string }[] {
  if (node.op === 'copy') return [{ source: node.from, label: 'copy' }];
  if (node.op !== 'run') return [];
  return node.mounts.flatMap((m: MountSpec) =>
    (m.type === 'bind' || m.type === 'cache') && m.from ? [{ source: m.from, label: m.type }] : [],
  );
}

function cut(label: string): string {
  return label.length <= MAX_LABEL ? label : label.slice(0, MAX_LABEL - 1) + '…';
}
