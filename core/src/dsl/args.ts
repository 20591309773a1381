import type { BoolArg, EnumArg, IntArg, StringArg } from './types.js';

interface Described {
  description?: string;
}

/** Typed build args. Each becomes an `ARG` with its default in the emitted Dockerfile. */
export const arg = {
  enum<const V extends string>(values: readonly V[], options: Described & { default?: NoInfer<V> } = {}): EnumArg<V> {
    return { kind: 'arg', type: 'enum', values: [...values], ...options };
  },
  string(options: Described & { default?: string; pattern?: RegExp | string } = {}): StringArg {
    const { pattern, ...rest } = options;
    return {
      kind: 'arg',
      type: 'string',
      ...rest,
      ...(pattern === undefined ? {} : { pattern: typeof pattern === 'string' ? pattern : pattern.source }),
    };
  },
  int(options: Described & { default?: number; min?: number; max?: number } = {}): IntArg {
    return { kind: 'arg', type: 'int', ...options };
  },
  boolean(options: Described & { default?: boolean } = {}): BoolArg {
    return { kind: 'arg', type: 'boolean', ...options };
  },
};
