import type { SourceLoc } from '../dsl/types.js';
import type { DiagnosticCode } from './codes.js';

/** Where in the config a problem sits, when no call site was captured; the loader turns it into a loc. */
export interface ConfigPath {
  image?: string;
  stage?: string;
  field?: string;
  /** The offending literal, to find the exact line. */
  value?: string;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: 'error' | 'warning';
  message: string;
  /** What to do about it. */
  hint?: string;
  loc?: SourceLoc;
  path?: ConfigPath;
}

export function error(
  code: DiagnosticCode,
  message: string,
  extra: Omit<Diagnostic, 'code' | 'severity' | 'message'> = {},
): Diagnostic {
  return { code, severity: 'error', message, ...extra };
}

/** Thrown when a phase found problems; carries every one of them, not just the first. */
export class DiagnosticError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
    this.name = 'DiagnosticError';
    this.diagnostics = diagnostics;
  }
}

/** `images.config.ts:12:5: error DD110: message (hint)`, with the file relative to `cwd`. */
/**
 * Whether a thrown value is a DiagnosticError. Matched by shape, not `instanceof`: a config may
 * load its own copy of drydock (npx, a nested node_modules), whose class is another one.
 */
export function isDiagnosticError(e: unknown): e is { diagnostics: readonly Diagnostic[] } & Error {
  return (
    e instanceof Error && e.name === 'DiagnosticError' && Array.isArray((e as { diagnostics?: unknown }).diagnostics)
  );
}

export function formatDiagnostic(d: Diagnostic, relative: (file: string) => string = (f) => f): string {
  const where = d.loc ? `${relative(d.loc.file)}:${d.loc.line}:${d.loc.column}: ` : '';
  const hint = d.hint ? ` (${d.hint})` : '';
  return `${where}${d.severity} ${d.code}: ${d.message}${hint}`;
}
