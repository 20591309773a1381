/**
 * The `drydock` executable's entry: bin/drydock.js loads the CLI bundle made from this file and
 * calls `run`, which runs the program on this process.
 */
import { trustDeferredCaCerts } from './deferred-ca.js';
import { main } from './program.js';

export async function run(): Promise<void> {
  // Before anything connects or starts a process: see bin/drydock.
  trustDeferredCaCerts();

  // `drydock graph | head` closes stdout early: that is not an error worth a stack.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

  process.exitCode = await main({
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
