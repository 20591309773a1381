/**
 * The watch section of `npm run bench`: `drydock build --watch --progress json` on the workload,
 * and for each kind of edit, N edits timed from the file write to the `build-finished` event of
 * the image it changes (p50, p95), next to BuildKit's rebuild time for the same edit in the same
 * run. Then memory over many consecutive rebuilds: the watch process's RSS sampled along the way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface WatchEdit {
  key: string;
  title: string;
  /** The image whose build-finished ends the measurement. */
  image: string;
  edit: (round: number) => void;
}

export interface WatchKindResult {
  title: string;
  edits: number;
  p50Ms: number;
  p95Ms: number;
  /** BuildKit's rebuild for the same edit (median seconds). */
  buildkitSeconds: number;
  /** p50 / BuildKit. */
  ratio: number;
  samplesMs: number[];
}

export interface WatchMemoryResult {
  rebuilds: number;
  /** RSS of the watch process (MB) after each tenth of the rebuilds. */
  rssMB: number[];
  /** Last sample minus the sample after the first tenth (warm-up). */
  growthMB: number;
}

type Event = Record<string, unknown> & { event: string };

/** A running `drydock build --watch`, read event by event. */
export class WatchProcess {
  private readonly events: Event[] = [];
  private waiter: (() => void) | undefined;
  private stderr = '';
  readonly child: ChildProcess;

  constructor(node: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string) {
    this.child = spawn(node, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as Event);
      this.waiter?.();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first event from index `from` on that `match` accepts, and when it arrived (hrtime ns). */
  async next(match: (e: Event) => boolean, from: number, timeoutMs = 300_000): Promise<{ event: Event; at: bigint }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return { event: found, at: process.hrtime.bigint() };
      if (this.child.exitCode !== null) throw new Error(`drydock --watch exited:\n${this.stderr.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms:\n${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 1000);
      });
    }
  }

  get count(): number {
    return this.events.length;
  }

  failures(): Event[] {
    return this.events.filter((e) => e.event === 'build-failed' || e.event === 'config-error');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('close', resolve));
    this.child.kill('SIGINT');
    await exited;
  }
}

const isFinished = (image: string) => (e: Event) => e.event === 'build-finished' && e.image === image;

/** One kind of edit, `n` times: ms from the write to the image's build-finished. */
export async function timeEdits(w: WatchProcess, kind: WatchEdit, n: number, firstRound: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const from = w.count;
    const start = process.hrtime.bigint();
    kind.edit(firstRound + i);
    const { at } = await w.next(isFinished(kind.image), from);
    samples.push(Number(at - start) / 1e6);
    // Let the next edit be a separate save, not part of this burst.
    await new Promise((r) => setTimeout(r, 150));
  }
  return samples;
}

/** RSS of a process, MB (from /proc). */
export function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
