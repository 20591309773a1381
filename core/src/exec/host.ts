import { runTool } from '../host/spawn.js';

/** Runs a host tool (mount, umount, runc) to completion; rejects with its stderr on failure. */
export async function tool(command: string, args: readonly string[], input?: string): Promise<string> {
  const { code, stdout, stderr } = await runTool(command, args, input);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')}: ${stderr.toString().trim() || `exit ${code}`}`);
  return stdout.toString();
}
