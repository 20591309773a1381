/**
 * One RUN node under runc: the process as BuildKit would start it (SHELL or exec form, the image
 * env plus the stage's build args, WORKDIR, USER resolved in the image), its mounts resolved to host
 * paths, and the upperdir it leaves committed as a layer.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { chown, mkdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { applyCopy } from '../copy/index.js';
import { selectBind, type ContextIndex } from '../context/index.js';
import { afterUnmounts, runStep, secureJoin, unmountsDone, type ExecMount } from '../exec/index.js';
import type { MountSpec, Node } from '../graph/types.js';
import type { Store } from '../store/index.js';
import { DEFAULT_PATH, DEFAULT_SHELL, envEntries, type RuntimeConfig } from './image-config.js';
import { commitUpperdir, scratchDir, type LayerTimings, type LayerWrite } from './layers.js';
import { mountRootfs, type MountedRootfs } from './rootfs.js';
import type { Secrets } from './secrets.js';
import { userIn } from './users.js';

export type RunNode = Extract<Node, { op: 'run' }>;

/** Where a bind or cache mount's `from` reads: the build context, or another stage or image. */
export type MountSource =
  | { kind: 'context'; dir: string; index: () => Promise<ContextIndex>; filtered: boolean }
  | { kind: 'state'; lowerdirs: readonly string[] };

export interface RunNodeOptions {
  store: Store;
  node: RunNode;
  /** Snapshots of the stage so far, top first. */
  lowerdirs: readonly string[];
  config: RuntimeConfig;
  /** Build args the stage declares, with values: RUN sees them as env vars (ENV wins). */
  args: ReadonlyMap<string, string>;
  /** For each of `node.mounts`, where its `from` reads (undefined when it has none). */
  sources: readonly (MountSource | undefined)[];
  secrets: Secrets;
  epoch: number;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  timings?: LayerTimings;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

const execFileAsync = promisify(execFile);

export class RunMountError extends Error {
  override name = 'RunMountError';
}

// Cache mounts of one id in this process that are `private`: a second user gets a fresh directory.
const privateInUse = new Set<string>();

export async function runNode(o: RunNodeOptions): Promise<LayerWrite | undefined> {
  const { node, config } = o;
  const user = await userIn(o.store, o.lowerdirs, config.User || 'root');
  const release: (() => Promise<void>)[] = [];
  const mounts: ExecMount[] = [];
  const extraEnv: [string, string][] = [];
  try {
    for (const [i, spec] of node.mounts.entries()) {
      await mountFor(o, spec, o.sources[i], mounts, extraEnv, release);
    }
    const env = new Map(envEntries(config));
    if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
    for (const [k, v] of o.args) if (!env.has(k)) env.set(k, v);
    for (const [k, v] of extraEnv) env.set(k, v);
    const args =
      'exec' in node.command ? [...node.command.exec] : [...(config.Shell ?? DEFAULT_SHELL), node.command.shell];
    const upperdir = scratchDir(o.store, 'upper');
    const scratch = scratchDir(o.store, 'run');
    try {
      await runStep({
        lowerdirs: o.lowerdirs,
        upperdir,
        scratch,
        process: {
          args,
          env: [...env].map(([k, v]) => `${k}=${v}`),
          cwd: config.WorkingDir || '/',
          uid: user.uid,
          gid: user.gid,
          additionalGids: user.additionalGids,
        },
        mounts,
        network: node.network === 'none' ? 'none' : 'host',
        privileged: node.security === 'insecure',
        ...(o.signal ? { signal: o.signal } : {}),
        onOutput: (stream, chunk) => o.onOutput?.(stream, o.secrets.mask(chunk.toString('utf8'))),
      });
    } catch (error) {
      await unmountsDone();
      await rm(upperdir, { recursive: true, force: true });
      throw error;
    } finally {
      // The step's rootfs in it is unmounted beside what follows: removed after that.
      afterUnmounts(() => rm(scratch, { recursive: true, force: true }));
    }
    return await commitUpperdir(o.store, upperdir, o.epoch, o.timings);
  } finally {
    for (const r of release.reverse()) await r();
  }
}

const octal = (mode: string | undefined, fallback: number): number =>
  mode === undefined ? fallback : parseInt(mode, 8);

async function mountFor(
  o: RunNodeOptions,
  m: MountSpec,
  source: MountSource | undefined,
  mounts: ExecMount[],
  env: [string, string][],
  release: (() => Promise<void>)[],
): Promise<void> {
  switch (m.type) {
    case 'tmpfs':
      mounts.push({ kind: 'tmpfs', target: m.target, ...(m.size !== undefined ? { size: m.size } : {}) });
      return;
    case 'secret': {
      const value = await o.secrets.read(m.id);
      if (value === undefined) {
        if (m.required === false) return;
        throw new RunMountError(
          `secret "${m.id}" is required by this RUN step but has no value (give it a source, or --secret id=${m.id},src=FILE)`,
        );
      }
      if (m.env !== undefined) env.push([m.env, value.toString('utf8')]);
      if (m.env === undefined || m.target !== undefined) {
        mounts.push({
          kind: 'secret',
          target: m.target ?? `/run/secrets/${m.id}`,
          content: value,
          mode: octal(m.mode, 0o400),
          uid: m.uid ?? 0,
          gid: m.gid ?? 0,
        });
      }
      return;
    }
    case 'ssh': {
      const sock = o.env.SSH_AUTH_SOCK;
      if (!sock) {
        if (m.required === false) return;
        throw new RunMountError(`ssh mount "${m.id ?? 'default'}" needs an ssh agent: SSH_AUTH_SOCK is not set`);
      }
      const target = m.target ?? '/run/buildkit/ssh_agent.0';
      mounts.push({ kind: 'bind', source: sock, target, readonly: false });
      env.push(['SSH_AUTH_SOCK', target]);
      return;
    }
    case 'bind': {
      mounts.push({
        kind: 'bind',
        source: await bindSource(o.store, source!, m.source, !m.readwrite, release),
        target: m.target,
        readonly: !m.readwrite,
      });
      return;
    }
    case 'cache': {
      const id = m.id ?? m.target;
      const dir = join(o.store.paths.base, 'cache-mounts', createHash('sha256').update(id).digest('hex'));
      const sharing = m.sharing ?? 'shared';
      let path = dir;
      if (sharing === 'locked') {
        let unlock!: () => void;
        const held = new Promise<void>((r) => (unlock = r));
        let acquired!: () => void;
        const ready = new Promise<void>((r) => (acquired = r));
        const done = o.store.withLock(
          `cache-${createHash('sha256').update(id).digest('hex').slice(0, 32)}`,
          async () => {
            acquired();
            await held;
          },
        );
        await ready;
        release.push(async () => {
          unlock();
          await done;
        });
      } else if (sharing === 'private') {
        if (privateInUse.has(id)) {
          path = scratchDir(o.store, 'cache-private');
          release.push(() => rm(path, { recursive: true, force: true }));
        } else {
          privateInUse.add(id);
          release.push(async () => void privateInUse.delete(id));
        }
      }
      if (!(await exists(path))) {
        await mkdir(path, { recursive: true, mode: octal(m.mode, 0o755) });
        await chown(path, m.uid ?? 0, m.gid ?? 0);
        // `from` seeds a new cache with a directory of another stage (or the context), as BuildKit does.
        if (source) {
          const seed = await bindSource(o.store, source, m.source, true, release);
          await execFileAsync('cp', ['-a', '--', `${seed}/.`, path]);
        }
      }
      mounts.push({ kind: 'bind', source: path, target: m.target, readonly: m.readonly ?? false });
      return;
    }
  }
}

/**
 * The host path a bind mount shows. The context is bound in place when nothing in it is ignored and
 * the mount is read-only; otherwise the files BuildKit would send (ignore rules applied) are copied
 * into a throwaway directory, so a step never sees an ignored file nor writes into the context.
 * A stage or image is mounted as an overlay whose writes are discarded.
 */
async function bindSource(
  store: Store,
  source: MountSource,
  path: string | undefined,
  readonly: boolean,
  release: (() => Promise<void>)[],
): Promise<string> {
  if (source.kind === 'state') {
    const mounted: MountedRootfs = await mountRootfs(store, source.lowerdirs);
    release.push(() => mounted.release());
    return secureJoin(mounted.rootfs, path ?? '/');
  }
  const selection = selectBind(await source.index(), path ?? '.');
  if (readonly && !source.filtered) {
    const inContext = secureJoin(source.dir, path ?? '/');
    if (relative(source.dir, inContext).startsWith('..'))
      throw new RunMountError(`bind source ${path} is outside the context`);
    return inContext;
  }
  const dir = scratchDir(store, 'bind');
  release.push(() => rm(dir, { recursive: true, force: true }));
  const single = selection.length === 1 && selection[0]!.type !== 'dir';
  await applyCopy({ rootfs: dir, sourceRoot: source.dir, selection, dest: single ? '/source' : '/' });
  return single ? join(dir, 'source') : dir;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
