import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { delimiter, join, posix } from 'node:path';
import { ExecCancelled, ExecError, ExecutorUnavailable } from './errors.js';
import { containerRootfs } from './container-rootfs.js';
import { afterUnmounts, mountOverlay, mountTmpfs, unmount, unmountLater, unmountsDone } from './overlay.js';
import { secureJoin } from './paths.js';
import { runContainer } from './runc.js';
import { SYSTEM_MOUNTS, runtimeSpec, type ProcessSpec, type RuntimeMount } from './spec.js';
import { missingPaths, removeStubs } from './stubs.js';
import { OutputTail } from './tail.js';

/** A mount for one step, already resolved to host paths by the caller. */
export type ExecMount =
  | { kind: 'bind'; source: string; target: string; readonly: boolean }
  | { kind: 'tmpfs'; target: string; size?: number }
  /** Written to a private tmpfs outside the rootfs, bind-mounted read-only, gone after the step. */
  | { kind: 'secret'; target: string; content: Buffer; mode: number; uid: number; gid: number };

export interface RunStepOptions {
  /** Read-only layers of the parent state, top first (overlay lowerdirs). */
  lowerdirs: readonly string[];
  /** An empty directory: receives every change the step makes, i.e. the new layer. */
  upperdir: string;
  /** Scratch space on the same filesystem as `upperdir` (overlay needs its workdir there). */
  scratch: string;
  process: ProcessSpec;
  mounts?: readonly ExecMount[];
  network?: 'host' | 'none';
  privileged?: boolean;
  signal?: AbortSignal;
  /** How an abort stops the process (default: SIGKILL at once). */
  stop?: { signal: string; timeoutMs: number };
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

let sequence = 0;

/**
 * Runs one RUN step under runc: overlay of the parent layers, the step's mounts, its process.
 * Resolves when the command exited 0, with the changes in `upperdir` and no mount stub among them;
 * rejects with ExecError (exit code and the output's last lines), ExecCancelled or ExecutorUnavailable.
 */
export async function runStep(o: RunStepOptions): Promise<void> {
  assertAvailable();
  const id = `drydock-${process.pid}-${++sequence}-${randomBytes(3).toString('hex')}`;
  const dir = join(o.scratch, id);
  const rootfs = join(dir, 'rootfs');
  const secrets = join(dir, 'secrets');
  const overlay = { lowerdirs: o.lowerdirs, upperdir: o.upperdir, workdir: join(dir, 'work') };
  // The step's directories and its config.json are made synchronously (microseconds each): they are
  // on the critical path, where each await would wait behind whatever else holds the event loop.
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(overlay.workdir);
  let hostMounted = false;
  let secretsMounted = false;
  let stubs: string[] = [];
  const tail = new OutputTail();
  let result: { exitCode: number; cancelled: boolean };
  try {
    const network = o.network ?? 'host';
    const mounts: RuntimeMount[] = [];
    if (network === 'host') {
      // Host networking needs the host's resolver and hosts file, as BuildKit gives a step.
      mounts.push(bindFile('/etc/resolv.conf', '/etc/resolv.conf'), bindFile('/etc/hosts', '/etc/hosts'));
    }
    const secretMounts = (o.mounts ?? []).filter((m) => m.kind === 'secret');
    if (secretMounts.length > 0) {
      await mkdir(secrets, { mode: 0o700 });
      await mountTmpfs(secrets);
      secretsMounted = true;
    }
    let n = 0;
    for (const m of o.mounts ?? []) {
      if (m.kind === 'bind') {
        mounts.push({
          destination: m.target,
          type: 'bind',
          source: m.source,
          options: ['rbind', m.readonly ? 'ro' : 'rw'],
        });
      } else if (m.kind === 'tmpfs') {
        const size = m.size === undefined ? [] : [`size=${m.size}`];
        mounts.push({
          destination: m.target,
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'nodev', 'mode=1777', ...size],
        });
      } else {
        const file = join(secrets, String(n++));
        await writeFile(file, m.content, { mode: m.mode });
        await chown(file, m.uid, m.gid);
        mounts.push({ destination: m.target, type: 'bind', source: file, options: ['rbind', 'ro'] });
      }
    }

    const destinations = [...SYSTEM_MOUNTS, ...mounts].map((m) => m.destination);
    // The overlay is runc's to mount where it can (container-rootfs.ts), else mounted here. Either
    // way not while an earlier step's mount, whose upperdir may be a lowerdir here, is torn down.
    await unmountsDone();
    const inContainer = await containerRootfs(overlay, destinations);
    if (inContainer) {
      stubs = inContainer.stubs;
    } else {
      await mountOverlay({ ...overlay, target: rootfs });
      hostMounted = true;
      stubs = missingPaths(rootfs, destinations);
      // The working directory is created if missing, as BuildKit does; that one belongs to the layer.
      mkdirSync(secureJoin(rootfs, o.process.cwd), { recursive: true });
    }

    const spec = runtimeSpec({
      rootfs,
      ...(inContainer ? { rootMount: inContainer.mount } : {}),
      process: o.process,
      mounts,
      network,
      ...(o.privileged ? { privileged: true } : {}),
    });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    // Cancelled while the step was being prepared: no container is started only to be killed.
    result = o.signal?.aborted
      ? { exitCode: 1, cancelled: true }
      : await runContainer({
          id,
          bundle: dir,
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.stop ? { stop: o.stop } : {}),
          onOutput: (stream, chunk) => {
            tail.push(chunk);
            o.onOutput?.(stream, chunk);
          },
        });
  } finally {
    if (secretsMounted) await unmount(secrets);
    // Beside what follows (the commit reads the upperdir, not the mount): ~5 ms off every RUN.
    if (hostMounted) unmountLater(rootfs, () => rm(dir, { recursive: true, force: true }));
    else afterUnmounts(() => rm(dir, { recursive: true, force: true }));
  }
  removeStubs(o.upperdir, o.lowerdirs, stubs);
  if (result.cancelled) throw new ExecCancelled();
  if (result.exitCode !== 0) {
    // runc reports its own failure to start a container on stderr, with exit code 1.
    const startFailure = /level=error msg="runc run failed: ([^"]*)"/.exec(tail.text());
    if (startFailure) throw new Error(`runc could not start the step's container: ${startFailure[1]}`);
    throw new ExecError(o.process.args, result.exitCode, tail.text());
  }
}

function bindFile(source: string, destination: string): RuntimeMount {
  return { destination, type: 'bind', source, options: ['rbind', 'ro'] };
}

/** Root, runc and overlayfs are required; say so plainly rather than failing deep inside a mount. */
export function assertAvailable(): void {
  if (process.getuid?.() !== 0) {
    throw new ExecutorUnavailable(
      'RUN steps need root: drydock runs them under runc on overlayfs (run drydock as root, e.g. with sudo)',
    );
  }
  const found = (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(posix.join(dir, 'runc'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new ExecutorUnavailable('runc is not installed: install it (Debian/Ubuntu: apt-get install runc)');
}
