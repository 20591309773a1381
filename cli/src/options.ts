/**
 * Every option the CLI knows, as `node:util` parseArgs configs: the global ones and each
 * command's own. Their help text lives in help.ts.
 */
import type { ParseArgsConfig } from 'node:util';

export type OptionConfigs = NonNullable<ParseArgsConfig['options']>;

export const globalOptions = {
  config: { type: 'string', short: 'c' },
  arg: { type: 'string', multiple: true },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} satisfies OptionConfigs;

export const commandOptions = {
  init: {
    preset: { type: 'string' },
    name: { type: 'string' },
    force: { type: 'boolean' },
  },
  emit: {
    'out-dir': { type: 'string', short: 'o' },
    check: { type: 'boolean' },
  },
  build: {
    target: { type: 'string' },
    secret: { type: 'string', multiple: true },
    'no-cache': { type: 'boolean' },
    'update-lock': { type: 'boolean' },
    output: { type: 'string', multiple: true },
    load: { type: 'boolean' },
    push: { type: 'boolean' },
    tag: { type: 'string', short: 't', multiple: true },
    progress: { type: 'string' },
    watch: { type: 'boolean', short: 'w' },
    run: { type: 'boolean' },
    'on-build': { type: 'string' },
    verbose: { type: 'boolean' },
  },
  prune: {
    all: { type: 'boolean' },
    'older-than': { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  graph: {
    format: { type: 'string', short: 'f' },
  },
  ls: {
    json: { type: 'boolean' },
  },
  check: {},
  help: {},
} satisfies Record<string, OptionConfigs>;

export type CommandName = keyof typeof commandOptions;

export const commandNames = Object.keys(commandOptions) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandOptions, name);
}
