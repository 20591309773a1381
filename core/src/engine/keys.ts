/**
 * Cache keys and state digests (ARCHITECTURE.md, "Cache keys"). A state digest says what a stage
 * *is* after a node, by content: the base image's manifest digest, then each layer's diff_id and
 * each metadata change folded in. A node's cache key hashes what the node does (its op alone, not
 * its definition chain) with the state digest it applies to and the content digests it reads, so
 * a step that rebuilds to identical bytes, or is redefined without changing its output, leaves
 * every later key unchanged (early cutoff).
 */
import { createHash } from 'node:crypto';
import { canonicalJson, digestOf } from '../graph/hash.js';
import type { Node } from '../graph/types.js';
import type { RuntimeConfig } from './image-config.js';

const KEY_VERSION = 'drydock-cache-v1';

/** The op of a node without its place in the graph (id, parent, inputs, source location). */
export function opDigest(node: Node): string {
  return digestOf(stripPlace(node));
}

function stripPlace(node: Node): Record<string, unknown> {
  const { id: _id, parent: _parent, inputs: _inputs, loc: _loc, args: _args, ...op } = node;
  return op;
}

const hash = (...parts: string[]): string => {
  const h = createHash('sha256').update(KEY_VERSION);
  for (const part of parts) h.update('\0').update(part);
  return `sha256:${h.digest('hex')}`;
};

/** The state of an empty filesystem with an empty config (`FROM scratch`). */
export const SCRATCH_STATE = hash('scratch');

/** A stage starting from an image: the platform manifest's digest covers its layers and config. */
export const imageState = (manifestDigest: string): string => hash('image', manifestDigest);

/** After a filesystem step: the layer it added, or none when it changed nothing. */
export const layerState = (parent: string, diffId: string | undefined): string =>
  diffId === undefined ? parent : hash('layer', parent, diffId);

/** After a metadata step: the config it produced (what later RUN steps see: env, user, workdir). */
export const configState = (parent: string, config: RuntimeConfig): string =>
  hash('config', parent, canonicalJson(config));

export interface KeyInputs {
  node: Node;
  /** State digest of the stage before this node. */
  parent: string;
  /** Content digests this node reads, by role: `stage:<name>` → state digest, `context:<i>` → selection digest, … */
  reads: Record<string, string>;
  /** Values of the build args the step sees (unset args are absent). */
  args: Record<string, string>;
}

export function cacheKey(k: KeyInputs): string {
  return hash('key', opDigest(k.node), k.parent, canonicalJson(k.reads), canonicalJson(k.args));
}
