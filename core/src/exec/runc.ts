import { existsSync } from 'node:fs';
import { spawnTool } from '../host/spawn.js';
import { join } from 'node:path';
import { tool } from './host.js';

/** runc's state lives apart from docker's, so drydock's containers never mix with a daemon's. */
export const RUNC_ROOT = '/run/drydock/runc';

export interface RuncResult {
  exitCode: number;
  cancelled: boolean;
}

/**
 * `runc run` of a prepared bundle, stdio piped (no terminal). On abort the container is killed;
 * it is always deleted, so no state outlives the step.
 */
export function runContainer(o: {
  id: string;
  bundle: string;
  signal?: AbortSignal;
  /** On abort, send this signal first and SIGKILL only if the process outlives `timeoutMs` (a service stops cleanly). */
  stop?: { signal: string; timeoutMs: number };
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}): Promise<RuncResult> {
  return new Promise((resolve, reject) => {
    const child = spawnTool('runc', ['--root', RUNC_ROOT, 'run', '--bundle', o.bundle, o.id]);
    let cancelled = false;
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      cancelled = true;
      // The container may not have started yet; runc kill then fails and the process exit does the rest.
      const hard = (): void =>
        void tool('runc', ['--root', RUNC_ROOT, 'kill', o.id, 'KILL']).catch(() => child.kill('SIGKILL'));
      if (!o.stop) return hard();
      tool('runc', ['--root', RUNC_ROOT, 'kill', o.id, o.stop.signal]).catch(hard);
      timer = setTimeout(hard, o.stop.timeoutMs);
    };
    if (o.signal?.aborted) kill();
    o.signal?.addEventListener('abort', kill, { once: true });
    child.stdout.on('data', (d: Buffer) => o.onOutput?.('stdout', d));
    child.stderr.on('data', (d: Buffer) => o.onOutput?.('stderr', d));
    child.on('error', reject);
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', kill);
      const result = { exitCode: code ?? (signal ? 128 + 9 : 1), cancelled };
      // A foreground `runc run` destroys its container when the process exits; only one it could
      // not clean up (runc itself killed, say) still has a state directory and needs a delete.
      if (!existsSync(join(RUNC_ROOT, o.id))) return resolve(result);
      tool('runc', ['--root', RUNC_ROOT, 'delete', '--force', o.id])
        .catch(() => undefined)
        .then(() => resolve(result));
    });
  });
}
