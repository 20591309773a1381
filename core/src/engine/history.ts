/**
 * The image history's `created_by` of each instruction, as docker 20.10's BuildKit writes it for the
 * emitted Dockerfile (checked against it in test/engine/image-config.test.ts): words expanded, the
 * resolved WORKDIR, Go's formatting of EXPOSE, VOLUME, SHELL, HEALTHCHECK, CMD and ENTRYPOINT, an
 * `ARG` entry per arg a stage declares, and RUN prefixed with those args' values. ONBUILD has none.
 */
import type { Node } from '../graph/types.js';
import { comparePaths } from '../oci/index.js';
import { envEntries, exposedPorts, type RuntimeConfig } from './image-config.js';

/** What an instruction's entry is made from: its word expansion and the config before and after it. */
export interface HistoryContext {
  x: (word: string) => string;
  before: RuntimeConfig;
  after: RuntimeConfig;
  /** The args the stage declares, with the value each has for RUN (an env var of the name wins). */
  declared: readonly string[];
  argValue: (name: string) => string | undefined;
}

/** The `created_by` of a node; undefined when BuildKit writes no entry (ONBUILD). */
export function createdByOf(node: Node, c: HistoryContext): string | undefined {
  const { x } = c;
  switch (node.op) {
    case 'env':
      return `ENV${node.env.map(([k, v]) => ` ${x(k)}=${x(v)}`).join('')}`;
    case 'label':
      return `LABEL${node.labels.map(([k, v]) => ` ${x(k)}=${x(v)}`).join('')}`;
    case 'user':
      return `USER ${x(node.user)}`;
    case 'workdir':
      return `WORKDIR ${c.after.WorkingDir ?? '/'}`;
    case 'expose': {
      const ports = [...new Set(node.ports.flatMap((p) => exposedPorts(x(p))))].sort(comparePaths); // Go prints a map's keys in byte order
      return `EXPOSE map[${ports.map((p) => `${p}:{}`).join(' ')}]`;
    }
    case 'volume':
      return `VOLUME [${node.paths.map(x).join(' ')}]`;
    case 'stopsignal':
      return `STOPSIGNAL ${x(node.signal)}`;
    case 'shell':
      return `SHELL [${node.shell.join(' ')}]`;
    case 'cmd':
      return `CMD ${goQuoteList(c.after.Cmd ?? [])}`;
    case 'entrypoint':
      return `ENTRYPOINT ${goQuoteList(c.after.Entrypoint ?? [])}`;
    case 'healthcheck':
      return `HEALTHCHECK ${goHealthcheck(c.after.Healthcheck)}`;
    case 'onbuild':
      return undefined;
    case 'run': {
      const argv =
        'exec' in node.command ? node.command.exec : [...(c.before.Shell ?? ['/bin/sh', '-c']), node.command.shell];
      return `RUN ${[...runArgs(c), ...argv].join(' ')} # buildkit`;
    }
    case 'copy':
    case 'add':
      return `${node.op.toUpperCase()} ${[...node.sources, node.dest].map(x).join(' ')} # buildkit`;
    default:
      return undefined;
  }
}

/** `|N NAME=value …`: the stage's declared args as a RUN sees them (BuildKit's runCommandString). */
function runArgs(c: HistoryContext): string[] {
  if (c.declared.length === 0) return [];
  const env = new Map(envEntries(c.before));
  return [`|${c.declared.length}`, ...c.declared.map((name) => `${name}=${env.get(name) ?? c.argValue(name) ?? ''}`)];
}

/** Go's `%q` of a []string: `["a" "b c"]`. */
function goQuoteList(items: readonly string[]): string {
  return `[${items.map(goQuote).join(' ')}]`;
}

/** Go's strconv.Quote for the strings a Dockerfile holds (control characters escaped). */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code >= 0x20 && code !== 0x7f) out += ch;
    else out += GO_ESCAPES[code] ?? `\\x${code.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

const GO_ESCAPES: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };

/** Go's `%q` of a rune (HEALTHCHECK's retry count is an int printed so). */
function goQuoteRune(n: number): string {
  if (n >= 0x20 && n < 0x7f)
    return n === 0x27 || n === 0x5c ? `'\\${String.fromCharCode(n)}'` : `'${String.fromCharCode(n)}'`;
  return `'${GO_ESCAPES[n] ?? `\\x${n.toString(16).padStart(2, '0')}`}'`;
}

/** Go's `%q` of docker 20.10's *HealthConfig: `&{["CMD-SHELL" "…"] "30s" "0s" "0s" '\x00'}`. */
function goHealthcheck(h: RuntimeConfig['Healthcheck']): string {
  if (!h) return '<nil>';
  const durations = [h.Interval, h.Timeout, h.StartPeriod].map((ns) => goQuote(goDuration(ns ?? 0)));
  return `&{${goQuoteList(h.Test)} ${durations.join(' ')} ${goQuoteRune(h.Retries ?? 0)}}`;
}

/** Go's time.Duration.String() of a count of nanoseconds. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let d = Math.abs(ns);
  if (d < 1e9) {
    // Below a second: ns, µs or ms with a fraction.
    const [unit, scale] = d < 1e3 ? ['ns', 1] : d < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${sign}${fraction(d, scale)}${unit}`;
  }
  const hours = Math.floor(d / 3.6e12);
  d -= hours * 3.6e12;
  const minutes = Math.floor(d / 6e10);
  d -= minutes * 6e10;
  const seconds = `${fraction(d, 1e9)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

/** `value / scale` with Go's fraction: as many digits as needed, no trailing zeros. */
function fraction(value: number, scale: number): string {
  const whole = Math.floor(value / scale);
  const rest = value - whole * scale;
  if (rest === 0) return String(whole);
  const digits = String(scale).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}
