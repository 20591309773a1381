import { spawnTool } from '../host/spawn.js';

/** Runs a host tool (mount, umount, runc) to completion; rejects with its stderr on failure. */
export function tool(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(command, args, input);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code: number | null) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`)),
    );
  });
}
