/**
 * The instruction graph: the hub between the config and everything that consumes it (the
 * Dockerfile emitter, the engine, `drydock graph`). Plain JSON, deterministic for a given config
 * and arg values, with one node per instruction.
 *
 * Strings use Dockerfile word syntax: `${NAME}` refers to a build arg (or an env var, as in a
 * Dockerfile) and is expanded by whoever consumes the graph, with Dockerfile rules. Where a
 * Dockerfile would not expand (CMD, ENTRYPOINT, HEALTHCHECK, SHELL, exec-form RUN, ONBUILD), the
 * compiler inlines the arg's value and records it in `ImageGraph.baked`.
 */
import type { SourceLoc } from '../dsl/types.js';

export const GRAPH_VERSION = 1;

export interface Graph {
  version: typeof GRAPH_VERSION;
  /** Every declared arg with the value this graph was compiled for. */
  args: ArgBinding[];
  /** Declared secret ids (never values). */
  secrets: string[];
  images: ImageGraph[];
}

export interface ArgBinding {
  name: string;
  type: 'enum' | 'string' | 'int' | 'boolean';
  /** The value as a Dockerfile would see it (`true`, `3000`, `22`); absent if required and not given. */
  value?: string;
  /** The declared default, as a string. */
  default?: string;
  /** True when the value came from the command line rather than the default. */
  given: boolean;
  description?: string;
}

/** An arg whose value is inlined in this image instead of staying an `ARG`, and why. */
export interface BakedArg {
  name: string;
  value: string;
  reason: 'branch' | 'no-expansion';
  /** For `no-expansion`: the instructions that cannot expand args, comma-separated (CMD, ENTRYPOINT, …). */
  where?: string;
}

export interface ImageGraph {
  name: string;
  /** Build context, relative to the config's directory, posix separators ('.' for the directory itself). */
  context: string;
  /** Extra ignore patterns from the config, applied after `<context>/.dockerignore`. */
  ignore: string[];
  tags: string[];
  platforms: string[];
  description?: string;
  /** The stage the image is made of. */
  target: string;
  /** Stages the target needs, dependencies first (unused stages are pruned). */
  stages: StageGraph[];
  baked: BakedArg[];
  /** Definition digest of the target's last node: changes whenever anything the image is made of does. */
  digest: string;
  loc?: SourceLoc;
}

export type BaseRef =
  | { kind: 'scratch' }
  | { kind: 'image'; ref: string; platform?: string }
  | { kind: 'stage'; stage: string; platform?: string };

export interface StageGraph {
  name: string;
  base: BaseRef;
  /** Definition digest of the base (image ref, or the base stage's last node). */
  baseDigest: string;
  nodes: Node[];
  /** Other stages this one reads from (base, COPY --from, bind/cache mounts from). */
  dependsOn: string[];
  loc?: SourceLoc;
}

export type Command = { shell: string } | { exec: string[] };

export type Source = { kind: 'context' } | { kind: 'stage'; stage: string } | { kind: 'image'; ref: string };

export type MountSpec =
  | {
      type: 'cache';
      target: string;
      id?: string;
      sharing?: 'shared' | 'private' | 'locked';
      readonly?: boolean;
      from?: Source;
      source?: string;
      mode?: string;
      uid?: number;
      gid?: number;
    }
  | { type: 'bind'; target: string; from: Source; source?: string; readwrite?: boolean }
  | { type: 'tmpfs'; target: string; size?: number }
  | {
      type: 'ssh';
      id?: string;
      target?: string;
      required?: boolean;
      mode?: string;
      uid?: number;
      gid?: number;
    }
  | {
      type: 'secret';
      id: string;
      target?: string;
      env?: string;
      mode?: string;
      uid?: number;
      gid?: number;
      required?: boolean;
    };

export interface HealthcheckSpec {
  /** `none` disables an inherited check. */
  test: Command | 'none';
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
}

/** What a node does; the part its definition digest covers (with its parent and inputs). */
export type Op =
  | {
      op: 'run';
      command: Command;
      mounts: MountSpec[];
      network?: 'default' | 'none' | 'host';
      security?: 'sandbox' | 'insecure';
    }
  | {
      op: 'copy';
      from: Source;
      sources: string[];
      dest: string;
      chown?: string;
      chmod?: string;
      link?: boolean;
      exclude?: string[];
      parents?: boolean;
    }
  | {
      op: 'add';
      sources: string[];
      dest: string;
      checksum?: string;
      chown?: string;
      chmod?: string;
      link?: boolean;
      exclude?: string[];
      keepGitDir?: boolean;
    }
  | { op: 'env'; env: [string, string][] }
  | { op: 'workdir'; path: string }
  | { op: 'user'; user: string }
  | { op: 'shell'; shell: string[] }
  | { op: 'label'; labels: [string, string][] }
  | { op: 'expose'; ports: string[] }
  | { op: 'volume'; paths: string[] }
  | { op: 'cmd'; command: Command }
  | { op: 'entrypoint'; command: Command }
  | { op: 'healthcheck'; healthcheck: HealthcheckSpec }
  | { op: 'stopsignal'; signal: string }
  | { op: 'onbuild'; instruction: string };

export type OpName = Op['op'];

export type Node = Op & {
  /** Definition digest: sha256 over the op, the parent's digest and the inputs' digests. */
  id: string;
  /** The node (or stage base) this one applies to. */
  parent: string;
  /** Last-node digests of other stages this node reads (COPY --from, mounts from a stage). */
  inputs: string[];
  /** Build args this node refers to with `${NAME}`. */
  args: string[];
  loc?: SourceLoc;
};
