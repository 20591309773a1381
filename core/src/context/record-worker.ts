/**
 * The worker thread that checks contexts against their walk records (record-check.ts): a check
 * is a walk's worth of readdir and lstat calls, and on a second core it runs while the main thread
 * loads base images and looks up the cache. Bundled on its own as core/dist/record-worker.js.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { Matcher } from './dockerignore.js';
import type { CheckRequest, CheckReply } from './record-check.js';
import { WalkRecord } from './walk-record.js';

// A check runs beside the build's own steps, and is needed only when its image is assembled: at a
// lower priority it takes the CPU time the steps leave rather than slowing them down (on Linux a
// nice value belongs to a thread; /proc/thread-self names this one).
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 10);
} catch {
  // Elsewhere it runs at the process's priority.
}

parentPort?.on('message', (request: CheckRequest) => {
  void check(request).then((reply) => parentPort!.postMessage(reply));
});

async function check(r: CheckRequest): Promise<CheckReply> {
  try {
    const record = await WalkRecord.load(r.file, r.key);
    const matches = record !== undefined && (await record.matches(r.dir, new Matcher(r.patterns)));
    return { id: r.id, digests: matches ? [...record.digests] : undefined };
  } catch (error) {
    return { id: r.id, error: error instanceof Error ? error.message : String(error) };
  }
}
