/**
 * The `drydock` program as a function: parse the command line, run one command, map the outcome
 * to an exit status. 0 ok; 1 diagnostics (config problems, host problems, emit --check
 * differences); 2 usage errors; 70 (EX_SOFTWARE) for anything unexpected, which is a drydock bug.
 * main.ts runs it on the real process; tests can run it on their own streams and commands.
 */
import { isDiagnosticError, type Diagnostic } from '@drydock/core';
import { parseCommandLine } from './args.js';
import { commands as builtinCommands, type CommandEntry } from './commands/index.js';
import type { CommandName } from './options.js';
import { commandHelp, mainHelp, seeHelp } from './help.js';
import { Output, type Stream } from './output.js';
import { UsageError } from './usage.js';
import { version } from './version.js';

export const BUG_REPORT =
  'drydock bug: please report at https://github.com/drydock-build/drydock/issues with the command and this output';

export interface Process {
  argv: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  stdout: Stream;
  stderr: Stream;
}

export async function main(
  proc: Process,
  commands: Record<CommandName, CommandEntry> = builtinCommands,
): Promise<number> {
  // Read before parsing, so a usage error honours --no-color too.
  const choice = { noColorFlag: proc.argv.includes('--no-color'), env: proc.env };
  const out = new Output(proc.stdout, proc.stderr, choice, proc.cwd);
  try {
    const line = parseCommandLine(proc.argv);
    if (line.help) {
      out.printRaw(line.command ? commandHelp[line.command] : mainHelp);
      return 0;
    }
    if (line.version) {
      out.print(`drydock ${version()}`);
      return 0;
    }
    if (!line.command) {
      out.printRaw(mainHelp);
      return 0;
    }
    const entry = commands[line.command];
    const extra = line.positionals[entry.maxPositionals];
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, line.command);
    const run = await entry.load();
    return await run({ line, cwd: proc.cwd, env: proc.env, out });
  } catch (err) {
    if (err instanceof UsageError) {
      out.note(`drydock: ${err.message} (${seeHelp(err.command)})`);
      return 2;
    }
    const diagnostics = diagnosticsOf(err);
    if (diagnostics) {
      out.diagnostics(diagnostics);
      return 1;
    }
    out.note(err instanceof Error && err.stack ? err.stack : String(err));
    out.note(BUG_REPORT);
    return 70;
  }
}

/**
 * The diagnostics a user error carries. Matched by shape, not `instanceof`: a config may load
 * its own copy of drydock (npx, a nested node_modules) whose DiagnosticError is another class.
 */
export function diagnosticsOf(err: unknown): readonly Diagnostic[] | undefined {
  return isDiagnosticError(err) && err.diagnostics.length > 0 ? err.diagnostics : undefined;
}
