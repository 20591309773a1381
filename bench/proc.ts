/**
 * Running programs for the benchmark: wall-clock time, output kept for the log, and (for drydock)
 * the peak memory of the process tree, polled from /proc.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Run {
  command: string;
  code: number;
  seconds: number;
  stdout: string;
  stderr: string;
  memory?: MemoryPeak;
  /** From /usr/bin/time when the run was wrapped in it (`timed`): CPU seconds of the whole tree, waited-for children included. */
  cpu?: { user: number; system: number; maxRssKb: number };
}

/**
 * Peak memory of a process tree, in bytes, sampled every `intervalMs` from /proc:
 * - `tree`: the largest sum of RSS over the root process and its descendants, leaving out the
 *   processes RUN steps start inside their containers (descendants of `runc`, which is counted):
 *   drydock's own memory, the figure the goal is about;
 * - `withContainers`: the same sum with those container processes included;
 * - `mainHwm`: the root (node) process's own VmHWM, exact (the kernel's high-water mark), last read
 *   just before it exits.
 */
export interface MemoryPeak {
  tree: number;
  withContainers: number;
  mainHwm: number;
  samples: number;
}

const PAGE = 4096;
const TIME = '/usr/bin/time';
let runs = 0;

/** The last line of /usr/bin/time -f '%U %S %M' output ("Command exited with non-zero status" may come first). */
function readTime(file: string): Run['cpu'] {
  const text = readText(file);
  rmSync(file, { force: true });
  const m = /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(text ?? '');
  return m ? { user: Number(m[1]), system: Number(m[2]), maxRssKb: Number(m[3]) } : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tasks) {
    const text = readText(`/proc/${pid}/task/${tid}/children`);
    if (text) for (const c of text.trim().split(/\s+/)) if (c) out.push(Number(c));
  }
  return out;
}

function rssOf(pid: number): number {
  const statm = readText(`/proc/${pid}/statm`);
  return statm ? Number(statm.split(' ')[1] ?? 0) * PAGE : 0;
}

/**
 * Whether `pid` is a copy of its parent that has not exec'd yet: Node starts a program by fork, and
 * until the exec the child's RSS counts the parent's pages it shares copy-on-write (~90 MB here),
 * though they are the parent's memory, counted already. Such a child is counted as nothing.
 */
function isUnexecedFork(pid: number, parent: number): boolean {
  const cmdline = readText(`/proc/${pid}/cmdline`);
  return cmdline !== undefined && cmdline === readText(`/proc/${parent}/cmdline`) && exeOf(pid) === exeOf(parent);
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string {
  return (readText(`/proc/${pid}/comm`) ?? '').trim();
}

function hwmOf(pid: number): number | undefined {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readText(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : undefined;
}

class MemoryMonitor {
  readonly peak: MemoryPeak = { tree: 0, withContainers: 0, mainHwm: 0, samples: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly root: number,
    intervalMs: number,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    let own = 0;
    let all = 0;
    // /usr/bin/time wrapping the program is not part of it: start below it.
    const roots = commOf(this.root) === 'time' ? childrenOf(this.root) : [this.root];
    const main = roots[0];
    // Depth-first over the tree; `inContainer` once below a runc process.
    const stack: [number, boolean][] = roots.map((pid) => [pid, false]);
    while (stack.length > 0) {
      const [pid, inContainer] = stack.pop()!;
      const rss = rssOf(pid);
      all += rss;
      if (!inContainer) own += rss;
      const below = inContainer || commOf(pid) === 'runc';
      for (const c of childrenOf(pid)) if (!isUnexecedFork(c, pid)) stack.push([c, below]);
    }
    const hwm = main === undefined ? undefined : hwmOf(main);
    if (hwm !== undefined) this.peak.mainHwm = Math.max(this.peak.mainHwm, hwm);
    this.peak.tree = Math.max(this.peak.tree, own);
    this.peak.withContainers = Math.max(this.peak.withContainers, all);
    this.peak.samples++;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Poll the tree's memory every this many ms (off when undefined). */
  memoryIntervalMs?: number;
  /** Run under /usr/bin/time (when installed) for the tree's CPU time and largest single RSS. */
  cpuTime?: boolean;
  timeoutMs?: number;
}

/** Runs a program to completion; never throws for a non-zero exit. */
export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const command = [file, ...args].join(' ');
  const timeFile =
    options.cpuTime && existsSync(TIME) ? join(tmpdir(), `bench-time-${process.pid}-${++runs}`) : undefined;
  const argv: [string, readonly string[]] = timeFile
    ? [TIME, ['-f', '%U %S %M', '-o', timeFile, file, ...args]]
    : [file, args];
  return new Promise((resolvePromise, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv[1], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const monitor =
      options.memoryIntervalMs !== undefined && child.pid !== undefined
        ? new MemoryMonitor(child.pid, options.memoryIntervalMs)
        : undefined;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 1_800_000);
    // Time stops at the exit event (before the pipes close). Node reaps the child at once, so the
    // memory figures are the poller's last readings: growth in the final interval is not seen.
    let seconds = 0;
    child.on('exit', () => {
      seconds = Number(process.hrtime.bigint() - start) / 1e9;
      monitor?.stop();
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      monitor?.stop();
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const cpu = timeFile ? readTime(timeFile) : undefined;
      resolvePromise({
        command,
        code: code ?? (signal ? 128 : 1),
        seconds,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (signal ? `\n[killed by ${signal}]` : ''),
        ...(monitor ? { memory: monitor.peak } : {}),
        ...(cpu ? { cpu } : {}),
      });
    });
  });
}

/** The tail of a run's output, for error messages. */
export function tail(r: Run, lines = 40): string {
  const t = (s: string) => s.trimEnd().split('\n').slice(-lines).join('\n');
  return `${r.command} exited ${r.code}\n--- stdout\n${t(r.stdout)}\n--- stderr\n${t(r.stderr)}`;
}
