// loadImage: stream a docker archive into `docker load` / `podman load` (no temp file), then read the
// image id back by tag. Missing CLIs and unreachable daemons are ExportErrors carrying the CLI's stderr.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ImageSource } from '../oci/index.js';
import { dockerArchiveChunks } from './archive.js';
import { ExportError } from './errors.js';
import { imageTags } from './tags.js';

export type EngineName = 'docker' | 'podman';

export interface LoadImageOptions {
  image: ImageSource;
  /** Image names to tag it with (`app:1.0`, `127.0.0.1:5000/app`; a missing tag means `latest`). */
  tags: string[];
  /** Which CLI (default `auto`: docker if installed, else podman). */
  engine?: EngineName | 'auto';
  /** Path or name of the CLI, instead of looking for it. */
  binary?: string;
  /** Kills the CLI and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Environment of the CLI (default this process's): DOCKER_HOST, CONTAINER_HOST, PATH, … */
  env?: NodeJS.ProcessEnv;
}

export interface LoadImageResult {
  /** The engine's image id (`sha256:…`; for docker 20.10 and podman, the config digest). */
  imageId: string;
  engine: EngineName;
  binary: string;
  /** The tags as the engine knows them (`docker.io/library/app:1.0` is given back as `app:1.0`). */
  tags: string[];
}

/** The default docker CLI; on this bench /usr/local/bin/docker is a newer client than the daemon. */
export const DEFAULT_DOCKER = '/usr/bin/docker';

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** `name` as found on PATH (or itself, when it is a path), if it is an executable file. */
export function findBinary(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name.includes('/')) return executable(name) ? name : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Which CLI loadImage runs, or ENOENGINE saying where it looked. */
export function resolveEngine(
  engine: EngineName | 'auto' = 'auto',
  binary?: string,
  env: NodeJS.ProcessEnv = process.env,
): { engine: EngineName; binary: string } {
  if (binary !== undefined) {
    const kind: EngineName = engine !== 'auto' ? engine : basename(binary).includes('podman') ? 'podman' : 'docker';
    const found = findBinary(binary, env);
    if (!found) {
      throw new ExportError('ENOENGINE', `${kind}: ${binary} not found or not executable`, { binary });
    }
    return { engine: kind, binary: found };
  }
  const docker = () => (executable(DEFAULT_DOCKER) ? DEFAULT_DOCKER : findBinary('docker', env));
  const podman = () => findBinary('podman', env);
  if (engine === 'docker' || engine === 'auto') {
    const found = docker();
    if (found) return { engine: 'docker', binary: found };
  }
  if (engine === 'podman' || engine === 'auto') {
    const found = podman();
    if (found) return { engine: 'podman', binary: found };
  }
  const looked =
    engine === 'docker'
      ? `${DEFAULT_DOCKER} and docker on PATH`
      : engine === 'podman'
        ? 'podman on PATH'
        : `${DEFAULT_DOCKER}, docker and podman on PATH`;
  throw new ExportError('ENOENGINE', `no container engine to load the image into (looked for ${looked})`);
}

const DAEMON_DOWN =
  /cannot connect to the docker daemon|is the docker daemon running|cannot connect to podman|unable to connect to podman|connection refused|permission denied while trying to connect|error during connect/i;

const firstLine = (text: string) => text.split('\n').find((l) => l.trim() !== '') ?? '';

function failure(engine: EngineName, binary: string, what: string, stderr: string, exit: string): ExportError {
  const err = stderr.trim();
  const code = DAEMON_DOWN.test(err) ? 'EDAEMON' : 'ELOAD';
  const why = code === 'EDAEMON' ? `cannot reach the ${engine} daemon` : `${what} failed (${exit})`;
  return new ExportError(code, `${engine}: ${why}${err ? `: ${firstLine(err).trim()}` : ''}`, {
    stderr: err,
    binary,
  });
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spawnError?: Error;
}

/**
 * Runs the CLI; `feed` (if any) writes its stdin. Resolves once it has exited, whatever the status,
 * without waiting for the feed: a CLI that exits early leaves the feed to fail on a closed pipe, and
 * a feed blocked on a slow blob must not hold up an aborted load.
 */
function run(
  binary: string,
  args: string[],
  o: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; feed?: (stdin: NodeJS.WritableStream) => Promise<void> },
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, {
      env: o.env ?? process.env,
      stdio: [o.feed ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(o.signal ? { signal: o.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError ??= error;
    });
    if (o.feed) {
      o.feed(child.stdin!).catch(() => {
        // The input is broken: the CLI must not take what it got so far for an image.
        if (child.exitCode === null) child.kill('SIGTERM');
      });
    }
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ...(spawnError ? { spawnError } : {}) }),
    );
  });
}

export async function loadImage(o: LoadImageOptions): Promise<LoadImageResult> {
  o.signal?.throwIfAborted();
  const env = o.env ?? process.env;
  const { engine, binary } = resolveEngine(o.engine, o.binary, env);
  const tags = imageTags(o.tags, 'load');
  const names = tags.map((t) => t.name!);
  // Podman would take an archive that is also an OCI layout for an OCI archive (naming it from
  // index.json); give it a plain docker archive.
  const chunks = dockerArchiveChunks(o.image, { tags, ociLayout: engine === 'docker' });
  // Only errors of the archive itself (a blob that fails to read or verify); not EPIPE from a CLI
  // that exited early, whose stderr says why.
  let sourceError: unknown;
  async function* watched(): AsyncGenerator<Buffer> {
    try {
      yield* chunks;
    } catch (error) {
      sourceError = error;
      throw error;
    }
  }
  const loaded = await run(binary, ['load'], {
    env,
    ...(o.signal ? { signal: o.signal } : {}),
    // A broken pipe is not the feed's failure: the CLI closed it, and its exit status and stderr say why.
    feed: (stdin) =>
      pipeline(watched(), stdin).catch((error: unknown) => {
        if (sourceError !== undefined) throw error;
      }),
  });
  chunks.return(undefined).catch(() => {}); // ends the archive once any pending blob read settles
  if (o.signal?.aborted) throw o.signal.reason;
  if (loaded.spawnError) {
    const code = (loaded.spawnError as NodeJS.ErrnoException).code;
    throw new ExportError(
      code === 'ENOENT' || code === 'EACCES' ? 'ENOENGINE' : 'ELOAD',
      `${engine}: could not run ${binary}: ${loaded.spawnError.message}`,
      { cause: loaded.spawnError, binary },
    );
  }
  // A blob that fails to read or verify is the real error; the CLI's complaint about a cut archive is not.
  if (sourceError !== undefined) throw sourceError;
  if (loaded.code !== 0) {
    const exit = loaded.code === null ? `killed by ${loaded.signal}` : `exit status ${loaded.code}`;
    throw failure(engine, binary, `${basename(binary)} load`, loaded.stderr, exit);
  }

  let imageId = /Loaded image ID: (\S+)/.exec(loaded.stdout)?.[1];
  if (names.length > 0) {
    // The id as the engine knows it (docker 20.10 and podman: the config digest; newer docker may differ).
    const inspect = await run(binary, ['image', 'inspect', '--format', '{{.Id}}', names[0]!], {
      env,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (o.signal?.aborted) throw o.signal.reason;
    if (inspect.code !== 0 || inspect.spawnError) {
      throw failure(
        engine,
        binary,
        `${basename(binary)} image inspect ${names[0]}`,
        inspect.stderr,
        `exit status ${inspect.code}`,
      );
    }
    imageId = inspect.stdout.trim();
  }
  if (imageId === undefined) {
    throw new ExportError('ELOAD', `${engine}: load printed no image id: ${firstLine(loaded.stdout)}`, { binary });
  }
  if (/^[0-9a-f]{64}$/.test(imageId)) imageId = `sha256:${imageId}`; // podman prints bare hex
  return { imageId, engine, binary, tags: names };
}
