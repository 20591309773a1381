/**
 * What `drydock ls` shows, as data: images from the compiled graph, args from their declarations
 * (allowed values live there) joined with the values this run compiled for, secrets by id and
 * source. Secret sources are described, never read.
 */
import { describeArgType, type AnyConfig, type ArgSpec, type Graph, type SecretSource } from '@drydock/core';

export interface Listing {
  images: ImageEntry[];
  args: ArgEntry[];
  secrets: SecretEntry[];
}

export interface ImageEntry {
  name: string;
  description?: string;
  target: string;
  context: string;
  tags: string[];
  platforms: string[];
  /** The stages the target needs, in build order. */
  stages: string[];
}

export interface ArgEntry {
  name: string;
  type: ArgSpec['type'];
  /** In words: `one of 20, 22`, `an integer from 1 to 65535`. */
  allowed: string;
  values?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  default?: string;
  /** The value this run uses; absent when required and not given. */
  value?: string;
  /** True when the value came from --arg. */
  given: boolean;
  description?: string;
}

export interface SecretEntry {
  id: string;
  source: SecretSource['from'];
  /** The env var, file path or command the value would come from. */
  from: string;
  description?: string;
}

export function listing(config: AnyConfig, graph: Graph, images: readonly string[]): Listing {
  return {
    images: graph.images
      .filter((i) => images.length === 0 || images.includes(i.name))
      .map((i) => ({
        name: i.name,
        ...(i.description === undefined ? {} : { description: i.description }),
        target: i.target,
        context: i.context,
        tags: i.tags,
        platforms: i.platforms,
        stages: i.stages.map((s) => s.name),
      })),
    args: graph.args.map((binding) => {
      const spec = config.args?.[binding.name];
      return {
        name: binding.name,
        type: binding.type,
        allowed: spec ? describeArgType(spec) : binding.type,
        ...(spec ? bounds(spec) : {}),
        ...(binding.default === undefined ? {} : { default: binding.default }),
        ...(binding.value === undefined ? {} : { value: binding.value }),
        given: binding.given,
        ...(binding.description === undefined ? {} : { description: binding.description }),
      };
    }),
    secrets: Object.entries(config.secrets ?? {}).map(([id, spec]) => ({
      id,
      source: spec.source.from,
      from: sourceFrom(spec.source),
      ...(spec.description === undefined ? {} : { description: spec.description }),
    })),
  };
}

function bounds(spec: ArgSpec): Pick<ArgEntry, 'values' | 'min' | 'max' | 'pattern'> {
  switch (spec.type) {
    case 'enum':
      return { values: [...spec.values] };
    case 'int':
      return {
        ...(spec.min === undefined ? {} : { min: spec.min }),
        ...(spec.max === undefined ? {} : { max: spec.max }),
      };
    case 'string':
      return spec.pattern === undefined ? {} : { pattern: spec.pattern };
    case 'boolean':
      return {};
  }
}

function sourceFrom(source: SecretSource): string {
  switch (source.from) {
    case 'env':
    case 'file-env':
      return source.name;
    case 'file':
      return source.path;
    case 'command':
      return source.command;
  }
}
