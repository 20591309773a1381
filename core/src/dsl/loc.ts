import { findSourceMap } from 'node:module';
import type { SourceLoc } from './types.js';

type Format = (error: Error, sites: NodeJS.CallSite[]) => unknown;

/**
 * The config file:line that called a DSL helper, read from the stack. Frames inside this
 * package are skipped, so the first frame outside it is the user's (or a preset's) code; a
 * preset's own steps are then re-located at the config line that called the preset (preset/).
 *
 * The stack is read as V8 call sites (generated positions), not as text: a stack formatter
 * installed by someone else (a test runner's) would not apply the source maps Node keeps for
 * configs compiled by the loader, and Node's own formatter would map this package's frames to
 * its .ts sources, hiding which frames are its own.
 */
export function callSite(): SourceLoc | undefined {
  const errors = Error as { prepareStackTrace?: Format };
  const format = errors.prepareStackTrace;
  let sites: NodeJS.CallSite[] = [];
  errors.prepareStackTrace = (_error, s) => s;
  try {
    sites = (new Error().stack as unknown as NodeJS.CallSite[] | undefined) ?? [];
  } finally {
    errors.prepareStackTrace = format;
  }
  for (const site of sites) {
    const file = site.getFileName();
    if (!file || file.startsWith('node:') || toPath(file).startsWith(ownDir)) continue;
    return original(site, file, format);
  }
  return undefined;
}

/** Where a call site is in the source the user wrote. */
function original(site: NodeJS.CallSite, file: string, format: Format | undefined): SourceLoc | undefined {
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (line === null || column === null) return undefined;
  // Node keeps the source maps of modules compiled while source maps are on (the config loader
  // turns them on), whatever formats stack traces.
  const entry = findSourceMap(file)?.findEntry(line - 1, column - 1);
  if (entry && 'originalSource' in entry) {
    return { file: toPath(entry.originalSource), line: entry.originalLine + 1, column: entry.originalColumn + 1 };
  }
  // Code Node has no map for may have been transformed by whoever installed a formatter (a test
  // runner running its files); let that formatter say where this frame is.
  if (format) {
    const text = format(new Error(), [site]);
    const m = typeof text === 'string' ? FRAME.exec(text.split('\n')[1] ?? '') : null;
    if (m) return { file: toPath(m[1]!), line: Number(m[2]), column: Number(m[3]) };
  }
  return { file: toPath(file), line, column };
}

// `at fn (file:line:col)` or `at file:line:col`; the file may hold spaces and parentheses.
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/** ES module frames and source map sources are file: URLs, percent-encoded. */
function toPath(file: string): string {
  return file.startsWith('file://') ? decodeURIComponent(file.slice(7)) : file;
}

// This package's own code: its sources (src/dsl/ → src/), tsc's output (dist/dsl/ → dist/) or the
// bundle (dist/ → the package), so frames in compile/ and preset/ are skipped as well as the DSL's.
const ownDir = toPath(new URL('..', import.meta.url).href);
