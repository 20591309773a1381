import type { SourceLoc } from './types.js';

const FRAME = /\(?((?:file:\/\/)?[^()\s]+?):(\d+):(\d+)\)?$/;

/**
 * The config file:line that called a DSL helper, read from the stack. Frames inside this
 * package are skipped, so the first frame outside it is the user's (or a preset's) code.
 */
export function callSite(): SourceLoc | undefined {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const frame of stack) {
    const m = FRAME.exec(frame.trim());
    if (!m) continue;
    const file = m[1]!.replace(/^file:\/\//, '');
    if (file.startsWith('node:') || isOwnFile(file)) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

const ownDir = new URL('.', import.meta.url).pathname;
function isOwnFile(file: string): boolean {
  return file.startsWith(ownDir);
}
