import { commandHelp, mainHelp } from '../help.js';
import { isCommandName } from '../options.js';
import { UsageError } from '../usage.js';
import type { Command } from '../context.js';

/** `drydock help [COMMAND]`. */
export const help: Command = async (ctx) => {
  const [topic] = ctx.line.positionals;
  if (topic === undefined) ctx.out.printRaw(mainHelp);
  else if (isCommandName(topic)) ctx.out.printRaw(commandHelp[topic]);
  else throw new UsageError(`no help for "${topic}": it is not a command`);
  return 0;
};
