import type { CommandName } from './options.js';

/** A mistake on the command line: exit status 2, one line naming it, no stack. */
export class UsageError extends Error {
  /** The command whose help the message points to (`drydock <command> --help`), if any. */
  readonly command: CommandName | undefined;
  constructor(message: string, command?: CommandName) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}
