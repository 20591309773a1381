/**
 * Reads jobs as JSON lines on stdin and writes one JSON result line per job to stdout,
 * tagged with the worker's name: `echo '{"id":1,"type":"reverse","input":"abc"}' | docker run -i worker`.
 */
import process from 'node:process';
import { createInterface } from 'node:readline';
import { runJob } from './jobs.js';

const name = process.env.WORKER_NAME ?? 'worker';
let done = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let job;
  try {
    job = JSON.parse(line);
  } catch {
    job = { type: null };
  }
  process.stdout.write(JSON.stringify({ worker: name, ...runJob(job) }) + '\n');
  done++;
}
process.stderr.write(`${name}: ${done} job(s) done\n`);
