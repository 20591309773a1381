/**
 * Where the CLI writes: results to stdout, diagnostics and notes to stderr, so
 * `drydock graph --format json > graph.json` stays clean. Colors only on a terminal, and never
 * with NO_COLOR (https://no-color.org) or --no-color.
 */
import { isAbsolute, relative } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '@drydock/core';

export interface Stream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

export interface ColorChoice {
  noColorFlag: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

export function useColor(stream: Stream, choice: ColorChoice): boolean {
  if (choice.noColorFlag) return false;
  const noColor = choice.env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  return stream.isTTY === true;
}

type Style = 'red' | 'yellow' | 'green' | 'bold' | 'dim';
const codes: Record<Style, [number, number]> = {
  red: [31, 39],
  yellow: [33, 39],
  green: [32, 39],
  bold: [1, 22],
  dim: [2, 22],
};

export class Output {
  constructor(
    private readonly stdout: Stream,
    private readonly stderr: Stream,
    private readonly choice: ColorChoice,
    /** Diagnostics name files relative to this directory (the user's cwd). */
    private readonly cwd: string,
  ) {}

  /** The live status line on a terminal's stderr (watch mode), redrawn after every other line. */
  #status = '';

  /** Whether stderr is a terminal, where a status line can be redrawn in place. */
  get live(): boolean {
    return this.stderr.isTTY === true;
  }

  /** Replaces the live status line (on a terminal only; '' removes it). */
  status(line: string): void {
    if (!this.live) return;
    this.stderr.write(`\r\u001b[K${line}`);
    this.#status = line;
  }

  /** Clears the status line for a permanent line, then draws it again below. */
  #around(write: () => void): void {
    if (this.#status === '') return write();
    this.stderr.write('\r\u001b[K');
    write();
    this.stderr.write(this.#status);
  }

  /** A line of the command's result, on stdout. */
  print(line = ''): void {
    this.#around(() => this.stdout.write(line + '\n'));
  }

  /** Text that already ends with a newline (rendered graphs, JSON), on stdout. */
  printRaw(text: string): void {
    this.stdout.write(text);
  }

  /** A line about the run rather than its result, on stderr. */
  note(line: string): void {
    this.#around(() => this.stderr.write(line + '\n'));
  }

  /** Every diagnostic on its own line, then `N errors[, M warnings]`; all on stderr. */
  diagnostics(list: readonly Diagnostic[]): void {
    for (const d of list) this.stderr.write(this.formatDiagnostic(d) + '\n');
    const errors = list.filter((d) => d.severity === 'error').length;
    const warnings = list.length - errors;
    const summary = [plural(errors, 'error'), ...(warnings > 0 ? [plural(warnings, 'warning')] : [])];
    this.stderr.write(this.paint(errors > 0 ? 'red' : 'yellow', summary.join(', '), this.stderr) + '\n');
  }

  /** Diagnostics as plain lines, without the summary: for text carried elsewhere (watch events). */
  diagnosticText(list: readonly Diagnostic[]): string {
    return list.map((d) => formatDiagnostic(d, (file) => this.relative(file))).join('\n');
  }

  /** `ok` in green (on a terminal). */
  ok(line = 'ok'): void {
    this.print(this.paint('green', line, this.stdout));
  }

  /** The path as the user would type it from where they ran drydock: relative, unless absolute is shorter. */
  relative(file: string): string {
    const rel = relative(this.cwd, file) || '.';
    return isAbsolute(file) && file.length < rel.length ? file : rel;
  }

  private formatDiagnostic(d: Diagnostic): string {
    const line = formatDiagnostic(d, (file) => this.relative(file));
    if (!useColor(this.stderr, this.choice)) return line;
    const label = `${d.severity} ${d.code}:`;
    const at = line.indexOf(label);
    if (at < 0) return line;
    const where = line.slice(0, at);
    const rest = line.slice(at + label.length);
    const color = d.severity === 'error' ? 'red' : 'yellow';
    return this.paint('bold', where, this.stderr) + this.paint(color, label, this.stderr) + rest;
  }

  private paint(style: Style, text: string, stream: Stream): string {
    if (text === '' || !useColor(stream, this.choice)) return text;
    const [open, close] = codes[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
