/** A RUN step's command failed: what ran, its exit code, and the last lines it printed. */
export class ExecError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly outputTail: string,
  ) {
    super(`${argv.join(' ')} exited with code ${exitCode}${outputTail ? `:\n${outputTail}` : ''}`);
    this.name = 'ExecError';
  }
}

/** The executor cannot run on this host (not root, no runc, no overlayfs); the message says what to do. */
export class ExecutorUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecutorUnavailable';
  }
}

/** The step was cancelled (a newer build superseded it, or the user interrupted). */
export class ExecCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'ExecCancelled';
  }
}
