import { loadProject, type Project } from '@drydock/core';
import type { CommandLine } from './args.js';
import type { Output } from './output.js';

/** What a command runs with: the parsed command line, where it runs, and where it writes. */
export interface CommandContext {
  line: CommandLine;
  cwd: string;
  env: NodeJS.ProcessEnv;
  out: Output;
}

/** A command's implementation; resolves to the exit status. */
export type Command = (ctx: CommandContext) => Promise<number>;

/** Loads and compiles the config named by -c (default: the current directory) with the --arg values. */
/** Loads the config; `requireArgValues: false` for commands that work with args left unset. */
export function openProject(ctx: CommandContext, options: { requireArgValues?: boolean } = {}): Promise<Project> {
  const config = stringOption(ctx, 'config');
  return loadProject({ cwd: ctx.cwd, ...(config === undefined ? {} : { config }), args: ctx.line.args, ...options });
}

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.line.options.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.line.options.get(name) === true;
}
