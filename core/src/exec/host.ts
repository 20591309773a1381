import { runTool, type ToolOptions } from '../host/spawn.js';

/** Runs a host tool (mount, umount, runc) to completion; rejects with its stderr on failure. */
export async function tool(command: string, args: readonly string[], options: ToolOptions = {}): Promise<string> {
  const { code, stdout, stderr } = await runTool(command, args, options);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')}: ${stderr.toString().trim() || `exit ${code}`}`);
  return stdout.toString();
}
