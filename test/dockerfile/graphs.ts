// Hand-built graphs for the emitter's tests: only the fields the emitter reads matter, the digests
// are placeholders.
import type { ArgBinding, BaseRef, Graph, ImageGraph, Node, Op, StageGraph } from '@drydock/core';

let counter = 0;
const digest = (): string => `sha256:${(++counter).toString(16).padStart(64, '0')}`;

export function node(op: Op, args: string[] = []): Node {
  return { ...op, id: digest(), parent: digest(), inputs: [], args } as Node;
}

export function stage(name: string, base: BaseRef | string, nodes: Node[] = []): StageGraph {
  const b: BaseRef =
    typeof base !== 'string' ? base : base === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: base };
  return { name, base: b, baseDigest: digest(), nodes, dependsOn: b.kind === 'stage' ? [b.stage] : [] };
}

export function image(name: string, stages: StageGraph[], extra: Partial<ImageGraph> = {}): ImageGraph {
  return {
    name,
    context: '.',
    ignore: [],
    tags: [],
    platforms: [],
    target: stages[stages.length - 1]!.name,
    stages,
    baked: [],
    digest: digest(),
    ...extra,
  };
}

export function arg(name: string, value: string | undefined, extra: Partial<ArgBinding> = {}): ArgBinding {
  return { name, type: 'string', ...(value === undefined ? {} : { value, default: value }), given: false, ...extra };
}

export function graph(images: ImageGraph[], args: ArgBinding[] = [], secrets: string[] = []): Graph {
  return { version: 1, args, secrets, images };
}

/** A one-image, one-stage graph around some nodes. */
export function single(nodes: Node[], args: ArgBinding[] = [], base = 'busybox:latest'): Graph {
  return graph([image('app', [stage('main', base, nodes)])], args);
}

/** The Dockerfile of `single(nodes)`, without its header (everything from the first ARG or FROM). */
export function body(text: string): string {
  const start = text.search(/^(ARG|FROM) /m);
  return text.slice(start);
}

/** The instruction lines of the only stage of `single(nodes)`: what follows its FROM and ARG lines. */
export function instructions(text: string): string {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => l.startsWith('FROM busybox:latest AS main'));
  let i = from + 1;
  while (lines[i]?.startsWith('ARG ')) i++;
  return lines.slice(i).join('\n').trimEnd();
}
