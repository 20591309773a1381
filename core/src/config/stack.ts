// Reading the stack of an error a config threw, to say which of its lines threw it.
import type { SourceLoc } from '../dsl/types.js';

/**
 * The error's stack as Node formats it, applying the source maps esbuild compiled the
 * config's modules with, so frames name .ts lines. A formatter someone else installed (a test
 * runner's) knows nothing of those maps, so it is set aside while the stack is first read.
 */
export function mappedStack(thrown: Error): string {
  const errors = Error as { prepareStackTrace?: unknown };
  const format = errors.prepareStackTrace;
  errors.prepareStackTrace = undefined;
  try {
    return thrown.stack ?? '';
  } finally {
    errors.prepareStackTrace = format;
  }
}

const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/** The file:line:col of each `at …` line, file: URLs turned into paths. */
export function frames(stack: string): SourceLoc[] {
  const out: SourceLoc[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? decodeURIComponent(m[1]!.slice(7)) : m[1]!;
    out.push({ file, line: Number(m[2]), column: Number(m[3]) });
  }
  return out;
}
