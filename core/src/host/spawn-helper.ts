/**
 * The spawn helper's process (see spawn.ts): starts the commands its parent asks for and relays
 * their output and exit. It imports node's built-ins only, so tsc's output runs as it is; the
 * bundle step puts a copy beside the core bundle (core/dist/spawn-helper.js).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { HelperReply, HelperRequest } from './spawn.js';

// The launcher's hand-over (cli/src/deferred-ca.ts) would make this node parse the certificates
// at start: it is given the variable under another name, and the tools get it back.
if (process.env.DRYDOCK_DEFERRED_CA_CERTS) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.DRYDOCK_DEFERRED_CA_CERTS;
  delete process.env.DRYDOCK_DEFERRED_CA_CERTS;
}

const children = new Map<number, ChildProcess>();
const send = (reply: HelperReply): void => void process.send?.(reply);

process.on('message', (m: HelperRequest) => {
  if ('kill' in m) {
    children.get(m.id)?.kill(m.kill);
    return;
  }
  const { id } = m;
  const child = spawn(m.command, m.args, {
    stdio: [m.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(m.cwd === undefined ? {} : { cwd: m.cwd }),
  });
  children.set(id, child);
  child.on('spawn', () => send({ id, type: 'spawn' }));
  child.stdout!.on('data', (data: Buffer) => send({ id, type: 'stdout', data }));
  child.stderr!.on('data', (data: Buffer) => send({ id, type: 'stderr', data }));
  child.on('error', (error: NodeJS.ErrnoException) => {
    children.delete(id);
    send({ id, type: 'error', message: error.message, ...(error.code ? { code: error.code } : {}) });
  });
  child.on('close', (code, signal) => {
    children.delete(id);
    send({ id, type: 'close', code, signal });
  });
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // the exit code reports a failure
    child.stdin.end(m.input);
  }
});

// The parent is gone (it exited, or was killed): so is the reason to be here.
process.on('disconnect', () => process.exit(0));
