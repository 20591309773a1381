import type { Command } from '../context.js';
import type { CommandName } from '../options.js';

export interface CommandEntry {
  /** Imported on use, so `drydock --help` does not load the compiler, the loader and esbuild. */
  load: () => Promise<Command>;
  /** How many positional arguments (IMAGE, COMMAND) it takes. */
  maxPositionals: number;
}

export const commands: Record<CommandName, CommandEntry> = {
  init: { load: async () => (await import('./init.js')).init, maxPositionals: 0 },
  build: { load: async () => (await import('./build.js')).build, maxPositionals: Infinity },
  prune: { load: async () => (await import('./prune.js')).prune, maxPositionals: 0 },
  emit: { load: async () => (await import('./emit.js')).emit, maxPositionals: Infinity },
  graph: { load: async () => (await import('./graph.js')).graph, maxPositionals: Infinity },
  ls: { load: async () => (await import('./ls.js')).ls, maxPositionals: Infinity },
  check: { load: async () => (await import('./check.js')).check, maxPositionals: 0 },
  help: { load: async () => (await import('./help.js')).help, maxPositionals: 1 },
};
