/**
 * Checks a context against its walk record (walk-record.ts) and gives the digests the record
 * holds when the context still matches it. The check runs on a worker thread when the bundled
 * worker is there (it is beside the bundle, core/dist/record-worker.js), in this thread otherwise
 * (running from the TypeScript sources); both give the same answer.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Matcher } from './dockerignore.js';
import { WalkRecord } from './walk-record.js';

export interface CheckRequest {
  id: number;
  /** The context directory, its ignore patterns, its record file and the key the record must carry. */
  dir: string;
  patterns: string[];
  file: string;
  key: string;
}

export type CheckReply =
  { id: number; digests: [string, string][] | undefined; error?: undefined } | { id: number; error: string };

const WORKER = new URL('./record-worker.js', import.meta.url);
/**
 * Records smaller than this (about 2,000 entries) are checked in this thread alone: it takes a few
 * milliseconds, and a small context's steps then need not wait behind a large one in the worker.
 * (Splitting a large check between both threads gained nothing here: two threads lstat-ing one
 * tree slow each other down, and this thread has other work meanwhile.)
 */
const IN_THREAD_BYTES = 128 * 1024;

interface WorkerState {
  worker: Worker | undefined;
  unavailable: boolean;
  nextId: number;
  pending: Map<number, (reply: CheckReply) => void>;
  /** Checks asked before the build asked for them (checkEarly), by request. */
  early: Map<string, Promise<CheckReply>>;
  /** The worker checks this process asked for, and those the last run of its command line did. */
  asked: Omit<CheckRequest, 'id'>[];
  remembered: string | undefined;
}

/**
 * One worker per process, whichever copy of this module starts it: the executable starts it from
 * a small entry of its own (core/dist/prepare.js) before it loads the CLI, ~40 ms earlier than the
 * core bundle could, and the bundle's copy of this module finds it here.
 */
const state: WorkerState = ((globalThis as Record<symbol, unknown>)[Symbol.for('drydock.record-worker')] ??= {
  worker: undefined,
  unavailable: false,
  nextId: 0,
  pending: new Map(),
  early: new Map(),
  asked: [],
  remembered: undefined,
}) as WorkerState;

/**
 * Starts the worker ahead of the first check, so that its start-up overlaps other work. Idempotent;
 * does nothing where there is no bundled worker.
 */
export function prepareRecordChecks(): void {
  if (state.worker || state.unavailable) return;
  if (!existsSync(fileURLToPath(WORKER))) {
    state.unavailable = true;
    return;
  }
  let worker: Worker;
  try {
    worker = new Worker(WORKER);
  } catch {
    state.unavailable = true;
    return;
  }
  state.worker = worker;
  worker.on('message', (reply: CheckReply) => {
    const resolve = state.pending.get(reply.id);
    state.pending.delete(reply.id);
    if (state.pending.size === 0) worker.unref();
    resolve?.(reply);
  });
  // A worker that dies is only lost speed: what it was asked is answered in this thread instead.
  worker.on('error', retireWorker);
  worker.on('exit', retireWorker);
  // Idle, it must not keep the process alive.
  worker.unref();
}

/** Stops the worker if it has nothing to do, to give back its memory (~12 MB); a later check starts it again. */
export function releaseRecordChecks(): void {
  const worker = state.worker;
  if (!worker || state.pending.size > 0) return;
  state.worker = undefined;
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  void worker.terminate();
}

function retireWorker(): void {
  state.worker = undefined;
  state.unavailable = true;
  for (const [id, resolve] of state.pending) resolve({ id, error: 'record worker exited' });
  state.pending.clear();
}

/** The record's digests (selection key → digest) if `dir` still matches it; undefined when not. */
export async function checkRecord(r: Omit<CheckRequest, 'id'>): Promise<Map<string, string> | undefined> {
  prepareRecordChecks();
  const size = statSync(r.file, { throwIfNoEntry: false })?.size;
  if (size === undefined) return undefined;
  if (state.worker && size >= IN_THREAD_BYTES) {
    state.asked.push(r);
    const early = state.early.get(identity(r));
    state.early.delete(identity(r));
    const reply = await (early ?? askWorker(state.worker, r));
    if (reply.error === undefined) return reply.digests ? new Map(reply.digests) : undefined;
    // A worker that failed (or died) leaves the check to this thread.
  }
  const record = await WalkRecord.load(r.file, r.key);
  return record && (await record.matches(r.dir, new Matcher(r.patterns))) ? record.digests : undefined;
}

function askWorker(worker: Worker, r: Omit<CheckRequest, 'id'>): Promise<CheckReply> {
  const id = state.nextId++;
  return new Promise<CheckReply>((resolve) => {
    state.pending.set(id, resolve);
    worker.ref();
    worker.postMessage({ ...r, id });
  });
}

const identity = (r: Omit<CheckRequest, 'id'>): string => JSON.stringify([r.dir, r.patterns, r.file, r.key]);

/**
 * Where the worker checks one command line (its directory and arguments) asked for are kept, so
 * that its next run can ask for them before it has loaded the project: the executable does this
 * at start (core/src/prepare.ts), ~20 ms before the build could. A check asked early is used only
 * if the build then asks for the very same one; it is as valid as one asked later, since the
 * context is listed after the command started either way.
 */
export function earlyChecksFile(storeBase: string, invocation: readonly string[]): string {
  const name = createHash('sha256').update(invocation.join('\0')).digest('hex');
  return join(storeBase, 'stat-cache', 'early', `${name}.json`);
}

/** Asks the worker for the checks `file` remembers (best effort: no file, no worker, no checks). */
export function checkEarly(file: string): void {
  let requests: Omit<CheckRequest, 'id'>[];
  try {
    const text = readFileSync(file, 'utf8');
    requests = JSON.parse(text) as Omit<CheckRequest, 'id'>[];
    state.remembered = text;
  } catch {
    return;
  }
  prepareRecordChecks();
  const worker = state.worker;
  if (!worker || !Array.isArray(requests)) return;
  for (const r of requests) state.early.set(identity(r), askWorker(worker, r));
}

/**
 * Drops the checks asked early: the build changed a file that may lie in a context (it wrote
 * images.lock.json), so an answer about the context before that is not an answer about it now.
 */
export function forgetEarlyChecks(): void {
  state.early.clear();
}

/** Remembers the worker checks this process asked for, for the next run of its command line. */
export function rememberChecks(file: string): void {
  const text = JSON.stringify(state.asked);
  if (text === state.remembered || (state.asked.length === 0 && state.remembered === undefined)) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, file);
    state.remembered = text;
  } catch {
    // Only a head start is lost.
  }
}
