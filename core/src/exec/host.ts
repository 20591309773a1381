import { spawn } from 'node:child_process';

/** Runs a host tool (mount, umount, runc) to completion; rejects with its stderr on failure. */
export function tool(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // No stdin pipe unless there is input: a tool that exits without reading it would raise EPIPE.
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`)),
    );
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the exit code reports a failure
      child.stdin.end(input);
    }
  });
}
