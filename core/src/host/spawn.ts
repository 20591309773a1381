/**
 * Host tools (mount, umount, getfattr, setfattr, runc, sync), started through a small helper
 * process when there is one.
 *
 * fork(2) copies the page tables of the process that forks, and node spawns with fork: a spawn
 * blocks the event loop ~1 ms from a 45 MB process and ~7 ms from a 250 MB one (a watch session),
 * several times per RUN step (mount, runc, umount, getfattr), on the rebuild's critical path. The
 * helper (spawn-helper.ts), started when a watch session begins, forks instead, off this thread. A
 * one-shot build does not start it: the helper's own start costs more CPU than the few spawns of
 * a build from a ~80 MB process save (measured: the no-op and the source edit were 19 and 29 ms slower
 * with it on 2 CPUs). Where it is not there (running from the TypeScript sources, a one-shot build,
 * or it died), the tool is spawned here. Callers see the same thing either way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What callers use of a tool's process: 'spawn', 'error' and 'close' (code, signal), its output, a signal. */
export interface ToolProcess extends EventEmitter {
  /** Emits 'data' with each Buffer the tool writes. */
  readonly stdout: EventEmitter;
  readonly stderr: EventEmitter;
  kill(signal?: NodeJS.Signals): boolean;
}

/** What a tool is given besides its arguments: stdin (none when undefined) and a working directory. */
export interface ToolOptions {
  input?: string;
  cwd?: string;
}

export type HelperRequest =
  ({ id: number; command: string; args: readonly string[] } & ToolOptions) | { id: number; kill: NodeJS.Signals };

export type HelperReply =
  | { id: number; type: 'spawn' }
  | { id: number; type: 'stdout' | 'stderr'; data: Uint8Array }
  | { id: number; type: 'error'; message: string; code?: string }
  | { id: number; type: 'close'; code: number | null; signal: NodeJS.Signals | null };

/**
 * Starts `command` with `args`, stdin given `options.input` (none when undefined), in `options.cwd`
 * (this process's when undefined), stdout and stderr piped. Through the helper when it runs, here
 * otherwise.
 */
export function spawnTool(command: string, args: readonly string[], options: ToolOptions = {}): ToolProcess {
  const { input, cwd } = options;
  const helper = state.helper;
  if (helper?.connected) {
    const id = state.nextId++;
    const tool = new RemoteTool(helper, id);
    if (state.running.size === 0) reference(helper, true);
    state.running.set(id, tool);
    helper.send({ id, command, args, ...options } satisfies HelperRequest);
    return tool;
  }
  // No stdin pipe unless there is input: a tool that exits without reading it would raise EPIPE.
  const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], cwd });
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // the exit code reports a failure
    child.stdin.end(input);
  }
  return child as ChildProcess & ToolProcess;
}

/** A tool run to its end: its exit code (null when a signal ended it) and all it wrote. */
export interface ToolRun {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** spawnTool to completion; rejects only when the tool could not start (ENOENT and the like). */
export function runTool(command: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(command, args, options);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code: number | null) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }),
    );
  });
}

/**
 * Starts the helper, once per process: a watch session does, before its first build. Does nothing
 * where there is no bundled helper.
 */
export function startSpawnHelper(): void {
  if (state.helper || state.unavailable) return;
  const script = fileURLToPath(new URL('./spawn-helper.js', import.meta.url));
  if (!existsSync(script)) {
    state.unavailable = true;
    return;
  }
  const env = { ...process.env };
  // As the launcher does for this process (cli/bin/drydock): the helper's node has no TLS to do.
  if (env.NODE_EXTRA_CA_CERTS) {
    env.DRYDOCK_DEFERRED_CA_CERTS = env.NODE_EXTRA_CA_CERTS;
    delete env.NODE_EXTRA_CA_CERTS;
  }
  const helper = spawn(process.execPath, [script], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced',
    env,
  });
  state.helper = helper;
  helper.on('message', route);
  helper.on('error', () => retire(helper));
  helper.on('exit', () => retire(helper));
  reference(helper, false);
}

/** A tool started by the helper, seen from here. */
class RemoteTool extends EventEmitter implements ToolProcess {
  readonly stdout = new EventEmitter();
  readonly stderr = new EventEmitter();
  constructor(
    private readonly helper: ChildProcess,
    private readonly id: number,
  ) {
    super();
  }
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (!this.helper.connected) return false;
    this.helper.send({ id: this.id, kill: signal } satisfies HelperRequest);
    return true;
  }
}

interface HelperState {
  helper: ChildProcess | undefined;
  unavailable: boolean;
  nextId: number;
  running: Map<number, RemoteTool>;
}

// One helper per process, whichever copy of this module starts it (the executable's early entry
// or the core bundle).
const state: HelperState = ((globalThis as Record<symbol, unknown>)[Symbol.for('drydock.spawn-helper')] ??= {
  helper: undefined,
  unavailable: false,
  nextId: 0,
  running: new Map(),
}) as HelperState;

function route(reply: HelperReply): void {
  const tool = state.running.get(reply.id);
  if (!tool) return;
  switch (reply.type) {
    case 'spawn':
      tool.emit('spawn');
      break;
    case 'stdout':
    case 'stderr':
      // Structured clone gives a Uint8Array: callers expect a Buffer.
      tool[reply.type].emit('data', Buffer.from(reply.data.buffer, reply.data.byteOffset, reply.data.byteLength));
      break;
    case 'error':
      settled(reply.id);
      tool.emit('error', Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
      break;
    case 'close':
      settled(reply.id);
      tool.emit('close', reply.code, reply.signal);
      break;
  }
}

function settled(id: number): void {
  state.running.delete(id);
  if (state.running.size === 0 && state.helper) reference(state.helper, false);
}

/** While a tool runs, the helper keeps this process alive (as a child of its own would); idle, it must not. */
function reference(helper: ChildProcess, on: boolean): void {
  const channel = helper.channel as { ref(): void; unref(): void } | null | undefined;
  if (on) {
    helper.ref();
    channel?.ref();
  } else {
    helper.unref();
    channel?.unref();
  }
}

/** The helper is gone: what it was running fails, and tools are spawned here from now on. */
function retire(helper: ChildProcess): void {
  if (state.helper !== helper) return;
  state.helper = undefined;
  state.unavailable = true;
  const running = [...state.running.values()];
  state.running.clear();
  for (const tool of running) tool.emit('error', new Error('the spawn helper process exited'));
}
