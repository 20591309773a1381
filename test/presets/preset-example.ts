/**
 * Helpers for the python, go and static preset tests: what a preset makes of a project (its
 * Dockerfile, through the public API), and real builds of a private copy of an example or fixture
 * (drydock writes images.lock.json next to the config): natively with `drydock build --load`, and
 * from the emitted Dockerfile with BuildKit; then the image run with its port published, and what
 * docker says about the image and the running process.
 */
import { cp, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compile, DiagnosticError, emitDockerfile, projectFiles, type AnyConfig, type Diagnostic } from '@drydock/core';
import { buildImage, emitTo, inspect, type ImageConfig } from '../e2e/emitted.js';
import { docker, drydock, freePort, ok, requireBench, Resources, ROOT } from '../e2e/helpers.js';
import { MIRROR_ENV } from '../build/helpers.js';

export const FIXTURES = join(ROOT, 'test/presets/fixtures');

/** A preset image (the result of `python({ … })` and the like), compiled for the project in `dir`. */
export function plan(image: unknown, dir: string): { dockerfile: string; diagnostics: Diagnostic[] } {
  const config = { images: { app: image } } as unknown as AnyConfig;
  const result = compile(config, { project: (context) => projectFiles(join(dir, context)) });
  if (result.diagnostics.length > 0) return { dockerfile: '', diagnostics: result.diagnostics };
  return { dockerfile: emitDockerfile(result.graph, 'app', { configFile: 'images.config.ts' }), diagnostics: [] };
}

/** The diagnostics a call throws (presets check their options when called). */
export function thrown(call: () => unknown): Diagnostic[] {
  try {
    call();
  } catch (e) {
    if (e instanceof DiagnosticError) return [...e.diagnostics];
    throw e;
  }
  throw new Error('expected the call to throw a DiagnosticError');
}

export interface NativeBuild {
  tag: string;
  /** The steps that executed (not cached), as `stage: instruction`. */
  executed: string[];
}

export interface Running {
  id: string;
  /** `http://127.0.0.1:<published port>` */
  url: string;
}

/** Everything one test file builds and runs, removed by `cleanup()`. */
export class PresetBench {
  readonly res = new Resources();
  #work = '';
  #env: NodeJS.ProcessEnv = {};

  async setup(): Promise<void> {
    await requireBench();
    this.#work = this.res.dir(await mkdtemp(join(tmpdir(), 'drydock-presets-')));
    // Configs import 'drydock' and '@drydock/preset-*': the workspace's packages (built), as a user's would.
    await symlink(join(ROOT, 'node_modules'), join(this.#work, 'node_modules'));
    this.#env = { ...MIRROR_ENV, DRYDOCK_HOME: join(this.#work, 'home') };
  }

  /** A private copy of a project (an example's folder, or any directory), named `name`. */
  async copy(source: string, name = basename(source)): Promise<string> {
    const dir = join(this.#work, name);
    await cp(source, dir, { recursive: true, filter: (src) => !/\/(dockerfiles|node_modules|dist)(\/|$)/.test(src) });
    return dir;
  }

  /** `drydock build -c DIR --load -t TAG` (this file's store, so rebuilds hit its cache). */
  async native(dir: string, name: string): Promise<NativeBuild> {
    const tag = this.res.tag(`${name}-native`);
    const r = ok(
      `drydock build -c ${dir}`,
      await drydock(['build', '-c', dir, '--load', '-t', tag], { env: this.#env }),
    );
    return { tag, executed: executedSteps(r.stderr) };
  }

  /** `drydock emit`, then `DOCKER_BUILDKIT=1 docker build` of the emitted Dockerfile. */
  async buildkit(dir: string, image: string, name: string): Promise<string> {
    const emitted = await emitTo(dir, join(dir, '..', `${basename(dir)}-emitted`));
    return buildImage(this.res.tag(`${name}-buildkit`), emitted, image);
  }

  /** `docker run -d -p 127.0.0.1:<free port>:<port> TAG`. */
  async run(tag: string, port: number): Promise<Running> {
    const host = await freePort();
    const id = this.res.container(
      ok('docker run', await docker(['run', '-d', '-p', `127.0.0.1:${host}:${port}`, tag])).stdout.trim(),
    );
    return { id, url: `http://127.0.0.1:${host}` };
  }

  cleanup(): Promise<void> {
    return this.res.cleanup();
  }
}

/** The steps a build executed, from its progress lines (`[image/stage 3/7] RUN …  1.2s`). */
export function executedSteps(stderr: string): string[] {
  return [...stderr.matchAll(/^\[[^/\]]+\/([^ \]]+) \d+\/\d+\] (?!CACHED |FAILED )(.*?) {2}\d+\.\d+s$/gm)].map(
    (m) => `${m[1]}: ${m[2]}`,
  );
}

/** The image's config as docker shows it. */
export function imageConfig(tag: string): Promise<ImageConfig> {
  return inspect(tag);
}

/** The user ids of the processes running in a container, as the host's kernel sees them. */
export async function processUids(id: string): Promise<number[]> {
  // docker needs the pid column to match processes to the container.
  const top = ok('docker top', await docker(['top', id, '-eo', 'pid,uid']));
  return top.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => Number(l.trim().split(/\s+/)[1]));
}

/** The image's size in bytes, as docker counts it (all layers, uncompressed). */
export async function imageSize(tag: string): Promise<number> {
  return Number(ok('docker image inspect', await docker(['image', 'inspect', '-f', '{{.Size}}', tag])).stdout.trim());
}

/** One stage of a Dockerfile, an instruction a line (continuations joined). */
export function stage(dockerfile: string, name: string): string[] {
  const lines = dockerfile.replace(/ \\\n\s+/g, ' ').split('\n');
  const start = lines.findIndex((l) => l.startsWith('FROM ') && l.endsWith(` AS ${name}`));
  if (start < 0) throw new Error(`no stage ${name} in:\n${dockerfile}`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('FROM '));
  return lines.slice(start, end < 0 ? undefined : end).filter((l) => l.trim() !== '');
}
