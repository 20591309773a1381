/**
 * The command line → command, positionals and option values. parseArgs tokenizes (knowing every
 * option, so `-c FILE` or `-o DIR` consume their value wherever they appear); the checks here
 * turn every mistake into one `UsageError` line that names the offending word.
 */
import { parseArgs } from 'node:util';
import { commandOptions, globalOptions, isCommandName, type CommandName, type OptionConfigs } from './options.js';
import { UsageError } from './usage.js';

export type OptionValue = string | string[] | boolean;

export interface CommandLine {
  /** Absent when no command was given (`drydock`, `drydock --help`). */
  command: CommandName | undefined;
  positionals: string[];
  /** Option values by long name, global and the command's own. */
  options: Map<string, OptionValue>;
  help: boolean;
  version: boolean;
  /** `--arg NAME=VALUE`, in order, last one winning (as `docker build --build-arg` does). */
  args: Record<string, string>;
}

const everyOption: OptionConfigs = Object.assign({}, globalOptions, ...Object.values(commandOptions));

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const { tokens } = parseArgs({
    args: [...argv],
    options: everyOption,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });

  const positionals = tokens.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  const optionTokens = tokens.flatMap((t) => (t.kind === 'option' ? [t] : []));
  // `-o --help` asks for help too, though parseArgs hands `--help` to -o as its value.
  const wantsHelp = optionTokens.some(
    (t) => t.name === 'help' || (!t.inlineValue && (t.value === '--help' || t.value === '-h')),
  );

  const first = positionals[0];
  const command = first !== undefined && isCommandName(first) ? first : undefined;
  // Unknown words first (options, then the command), each named in the message.
  for (const t of optionTokens) {
    if (!Object.hasOwn(everyOption, t.name)) throw new UsageError(`unknown option ${t.rawName}`, command);
  }
  if (first !== undefined && !command) throw new UsageError(`unknown command "${first}"`);
  const allowed: OptionConfigs = { ...globalOptions, ...(command ? commandOptions[command] : {}) };

  const options = new Map<string, OptionValue>();
  for (const t of optionTokens) {
    const config = allowed[t.name];
    if (!config) {
      throw new UsageError(
        command
          ? `unknown option ${t.rawName} for "drydock ${command}"`
          : `option ${t.rawName} belongs to a command: ${owners(t.name)}`,
        command,
      );
    }
    if (config.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`option ${t.rawName} takes no value`, command);
      options.set(t.name, true);
      continue;
    }
    // A missing value, or the next option taken as one (`-o --check`), is a mistake; `--out-dir=-x` is not.
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))) {
      if (wantsHelp) continue;
      throw new UsageError(`option ${t.rawName} needs a value`, command);
    }
    if (config.multiple) {
      const list = options.get(t.name);
      options.set(t.name, [...(Array.isArray(list) ? list : []), t.value]);
    } else {
      options.set(t.name, t.value);
    }
  }

  const argValues = options.get('arg');
  return {
    command,
    positionals: positionals.slice(1),
    options,
    help: wantsHelp,
    version: options.get('version') === true,
    args: parseBuildArgs(Array.isArray(argValues) ? argValues : [], command),
  };
}

function owners(option: string): string {
  return Object.entries(commandOptions)
    .filter(([, options]) => Object.hasOwn(options, option))
    .map(([name]) => `"drydock ${name}"`)
    .join(', ');
}

const ARG = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

function parseBuildArgs(values: string[], command: CommandName | undefined): Record<string, string> {
  const args: Record<string, string> = {};
  for (const value of values) {
    const m = ARG.exec(value);
    if (!m) throw new UsageError(`--arg ${JSON.stringify(value)} is not NAME=VALUE`, command);
    args[m[1]!] = m[2]!;
  }
  return args;
}
