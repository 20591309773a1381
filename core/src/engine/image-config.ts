/**
 * The image config a stage ends with: its base image's config with the stage's metadata nodes
 * applied in order, with Dockerfile semantics (what `docker image inspect` shows for the same
 * Dockerfile built by BuildKit). Filesystem ops leave the config alone; the solver folds them the
 * same way to know the env, working directory and user each RUN step runs with.
 */
import { posix } from 'node:path';
import type { Command, HealthcheckSpec, Node } from '../graph/types.js';
import { expandWord, type Vars } from './expand.js';

/** The `config` object of an OCI image config (Docker's field names). */
export interface RuntimeConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  User?: string;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Shell?: string[];
  OnBuild?: string[];
  Healthcheck?: {
    Test: string[];
    Interval?: number;
    Timeout?: number;
    StartPeriod?: number;
    StartInterval?: number;
    Retries?: number;
  };
}

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Folding state: the config, and whether CMD was set in this stage (ENTRYPOINT clears an inherited one). */
export interface ConfigState {
  config: RuntimeConfig;
  cmdSetHere: boolean;
}

export function startStage(base: RuntimeConfig): ConfigState {
  return { config: structuredClone(base), cmdSetHere: false };
}

/** Variables words expand against: the stage's args, overridden by the image env (ENV wins over ARG). */
export function wordVars(state: ConfigState, args: ReadonlyMap<string, string>): Vars {
  const vars = new Map(args);
  for (const [k, v] of envEntries(state.config)) vars.set(k, v);
  return vars;
}

/** Applies one node; filesystem ops (run, copy, add) return the state unchanged. */
export function applyNode(state: ConfigState, node: Node, args: ReadonlyMap<string, string>): ConfigState {
  const c = structuredClone(state.config);
  const x = (word: string): string => expandWord(word, wordVars(state, args));
  let cmdSetHere = state.cmdSetHere;
  switch (node.op) {
    case 'env': {
      // Every pair expands against the env from before the instruction, as Docker does:
      // `ENV A=one B=${A}` gives B the previous A (tested against BuildKit).
      const vars = wordVars(state, args);
      for (const [key, value] of node.env) c.Env = setEnv(c.Env ?? [], expandWord(key, vars), expandWord(value, vars));
      break;
    }
    case 'workdir':
      c.WorkingDir = posix.resolve(c.WorkingDir || '/', x(node.path));
      break;
    case 'user':
      c.User = x(node.user);
      break;
    case 'shell':
      c.Shell = [...node.shell];
      break;
    case 'label':
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of node.labels) c.Labels[x(k)] = x(v);
      break;
    case 'expose':
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of node.ports) for (const port of exposedPorts(x(p))) c.ExposedPorts[port] = {};
      break;
    case 'volume':
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of node.paths) c.Volumes[x(v)] = {};
      break;
    case 'stopsignal':
      c.StopSignal = x(node.signal);
      break;
    case 'cmd':
      c.Cmd = argv(node.command, c);
      cmdSetHere = true;
      break;
    case 'entrypoint':
      c.Entrypoint = argv(node.command, c);
      if (!cmdSetHere) delete c.Cmd;
      break;
    case 'healthcheck':
      c.Healthcheck = healthcheck(node.healthcheck);
      break;
    case 'onbuild':
      c.OnBuild = [...(c.OnBuild ?? []), node.instruction];
      break;
    default:
      return state;
  }
  return { config: c, cmdSetHere };
}

export function envEntries(config: RuntimeConfig): [string, string][] {
  return (config.Env ?? []).map((e) => {
    const i = e.indexOf('=');
    return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
  });
}

function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = env.filter((e) => !e.startsWith(`${key}=`) && e !== key);
  // Docker keeps the position of a variable it replaces.
  const at = env.findIndex((e) => e.startsWith(`${key}=`) || e === key);
  const entry = `${key}=${value}`;
  if (at < 0) return [...out, entry];
  out.splice(at, 0, entry);
  return out;
}

/** Shell form runs through the stage's SHELL, as Docker records it. */
function argv(command: Command, c: RuntimeConfig): string[] {
  return 'exec' in command ? [...command.exec] : [...(c.Shell ?? DEFAULT_SHELL), command.shell];
}

function healthcheck(h: HealthcheckSpec): RuntimeConfig['Healthcheck'] {
  if (h.test === 'none') return { Test: ['NONE'] };
  const test = 'exec' in h.test ? ['CMD', ...h.test.exec] : ['CMD-SHELL', h.test.shell];
  const out: NonNullable<RuntimeConfig['Healthcheck']> = { Test: test };
  if (h.interval !== undefined) out.Interval = durationNs(h.interval);
  if (h.timeout !== undefined) out.Timeout = durationNs(h.timeout);
  if (h.startPeriod !== undefined) out.StartPeriod = durationNs(h.startPeriod);
  if (h.startInterval !== undefined) out.StartInterval = durationNs(h.startInterval);
  if (h.retries !== undefined) out.Retries = h.retries;
  return out;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ('1m30s', '1.5s') in nanoseconds, as Docker stores healthcheck times. */
export function durationNs(duration: string): number {
  let total = 0;
  for (const m of duration.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * UNIT_NS[m[2]!]!;
  return Math.round(total);
}

/**
 * The ports an expanded EXPOSE word stands for, as BuildKit reads it (go-connections' nat): the
 * word splits at whitespace (an arg may hold several ports); each part is
 * `[ip:[hostport:]]port[-end][/proto]`, of which only the container port counts, a range giving
 * each of its ports; the protocol is lowercased and must be tcp (the default), udp or sctp.
 */
export function exposedPorts(word: string): string[] {
  const ports: string[] = [];
  for (const spec of word.split(/\s+/).filter(Boolean)) {
    const container = spec.slice(spec.lastIndexOf(':') + 1);
    const slash = container.indexOf('/');
    const range = slash < 0 ? container : container.slice(0, slash);
    const proto = (slash < 0 ? '' : container.slice(slash + 1)) || 'tcp';
    const m = /^(\d+)(?:-(\d+))?$/.exec(range);
    const start = Number(m?.[1]);
    const end = m?.[2] === undefined ? start : Number(m[2]);
    const protocol = proto.toLowerCase();
    if (!m || end > 65535 || end < start || !['tcp', 'udp', 'sctp'].includes(protocol)) {
      throw new Error(`expose "${spec}": not a port or port range (0-65535), optionally with /tcp, /udp or /sctp`);
    }
    for (let port = start; port <= end; port++) ports.push(`${port}/${protocol}`);
  }
  return ports;
}
