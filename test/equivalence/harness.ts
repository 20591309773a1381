/**
 * Builds one config's images two ways and snapshots both, for the equivalence tests:
 *
 * - **buildkit**: `drydock emit -c <config> -o <tmp>`, then `DOCKER_BUILDKIT=1 /usr/bin/docker build
 *   -f <tmp>/<image>.Dockerfile -t <tag> <context>` with `--build-arg`, `--secret` and `--target`
 *   (test/e2e/emitted.ts, so the bake file's context is used as the e2e tests use it);
 * - **drydock**: `drydock build <image> -c <config> --load -t <tag>` with `--arg`, `--secret` and
 *   `--target`, its store in a fresh `DRYDOCK_HOME` per test file.
 *
 * `DRYDOCK_EQUIVALENCE_NATIVE=buildkit` puts a second, `--no-cache` BuildKit build in drydock's
 * place: a check of the harness and of the corpus itself (every case must build to the same image
 * twice, or a difference would say nothing about drydock).
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildArgs, type Emitted } from '../e2e/emitted.js';
import { CLI, ROOT, ok } from '../e2e/helpers.js';
import { docker, drydock, exec } from './proc.js';
import { snapshot, type Snapshot } from './compare.js';

/** A secret handed to both builds: from a file, or from an environment variable. */
export type SecretGiven = { id: string; file: string } | { id: string; env: string; value: string };

export interface BuildSpec {
  image: string;
  args?: Record<string, string | number>;
  secrets?: readonly SecretGiven[];
  target?: string;
  /** Extra environment for both tools (e.g. the variable a config's secret source names). */
  env?: Record<string, string>;
  /**
   * BuildKit stand-in only: build with `--no-cache` (default true, so both BuildKit builds run every
   * step). Docker 20.10's `--no-cache` also starts cache mounts afresh, which the cache case cannot use.
   */
  noCache?: boolean;
}

export interface Pair {
  buildkit: Snapshot;
  drydock: Snapshot;
}

/** At most `size` holders at once. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** BuildKit builds at once per test file: dockerd is shared with every other test. */
const buildkitSlots = new Slots(4);

/** The bench's registry mirrors docker.io (test/env/setup.sh), for drydock as dockerd has it. */
const MIRROR = 'docker.io=http://127.0.0.1:5000';

export const NATIVE_SIDE = process.env.DRYDOCK_EQUIVALENCE_NATIVE === 'buildkit' ? 'buildkit-again' : 'drydock';

/** Everything one test file builds: its emitted files, its store, its tags, cleaned up at the end. */
export class Bench {
  readonly runId = `${Date.now().toString(36)}-${process.pid}`;
  readonly #tags = new Set<string>();
  tmp = '';
  home = '';

  /** Fails fast, saying what to do, when dockerd or the built CLI is missing. */
  async setup(): Promise<void> {
    const info = await docker(['info', '--format', '{{.ServerVersion}}']);
    if (info.code !== 0)
      throw new Error(`no Docker engine answers: run "bash test/env/setup.sh" first\n${info.stderr}`);
    if (!existsSync(CLI.replace(/bin\/drydock$/, 'dist/drydock.cjs'))) throw new Error('run "npm run build" first');
    this.tmp = await mkdtemp(join(tmpdir(), 'drydock-equivalence-'));
    this.home = join(this.tmp, 'drydock-home');
    await mkdir(this.home);
  }

  /** Removes every tag handed out (one by one: a build that never happened must not stop the rest). */
  async cleanup(): Promise<void> {
    const removals = await Promise.all(
      [...this.#tags].map(async (tag) => ({ tag, r: await docker(['rmi', '-f', tag]) })),
    );
    for (const { tag, r } of removals) {
      if (r.code !== 0 && !/No such image/.test(r.stderr)) console.warn(`could not remove ${tag}: ${r.stderr.trim()}`);
    }
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }

  /** A tag no other run uses, removed by cleanup. */
  tag(name: string): string {
    const tag = `drydock-equivalence/${name}:${this.runId}`;
    this.#tags.add(tag);
    return tag;
  }

  readonly #configs = new Map<string, ConfigUnderTest>();

  /** A config of the corpus, or an example, by its folder relative to the repository root (one copy each). */
  config(dir: string): ConfigUnderTest {
    let config = this.#configs.get(dir);
    if (!config) this.#configs.set(dir, (config = new ConfigUnderTest(this, dir)));
    return config;
  }
}

export class ConfigUnderTest {
  #project?: Promise<string>;
  #emitted?: Promise<Emitted>;
  constructor(
    readonly bench: Bench,
    /** Folder of the config, relative to the repository root. */
    readonly dir: string,
  ) {}

  /**
   * A private copy of the config's folder that both tools build from: drydock writes
   * images.lock.json next to the config, which must not land in the repository. Its own
   * `dockerfiles/` is left out; `node_modules` beside it resolves the config's `import 'drydock'`.
   */
  project(): Promise<string> {
    this.#project ??= (async () => {
      const root = join(this.bench.tmp, 'projects', this.dir.replace(/[/\\]/g, '_'));
      const dir = join(root, 'project');
      const source = resolve(ROOT, this.dir);
      await cp(source, dir, { recursive: true, filter: (src) => !src.startsWith(join(source, 'dockerfiles')) });
      await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
      return dir;
    })();
    return this.#project;
  }

  emitted(): Promise<Emitted> {
    this.#emitted ??= this.project().then((dir) => emitTo(dir, join(dir, '..', 'emitted')));
    return this.#emitted;
  }

  /** Builds the emitted Dockerfile with BuildKit; returns the tag. */
  async buildkit(name: string, spec: BuildSpec, noCache = false): Promise<string> {
    const e = await this.emitted();
    const tag = this.bench.tag(`${name}-bk`);
    const args = buildArgs(tag, e, spec.image, {
      args: spec.args,
      secrets: (spec.secrets ?? []).map(secretFlag),
      target: spec.target,
      noCache,
    });
    ok(`docker ${args.join(' ')}`, await buildkitSlots.run(() => docker(args, { env: secretEnv(spec) })));
    return tag;
  }

  /** `drydock build IMAGE -c DIR --load -t TAG`; returns the tag. */
  async native(name: string, spec: BuildSpec): Promise<string> {
    const tag = this.bench.tag(`${name}-dd`);
    const args = ['build', spec.image, '-c', await this.project(), '--load', '-t', tag, ...nativeFlags(spec)];
    ok(`drydock ${args.join(' ')}`, await drydock(args, { env: this.nativeEnv(spec) }));
    return tag;
  }

  /** drydock's environment: its store, the bench's registry mirror, the secrets' variables. */
  nativeEnv(spec: BuildSpec): Record<string, string> {
    return { DRYDOCK_HOME: this.bench.home, DRYDOCK_REGISTRY_MIRRORS: MIRROR, ...secretEnv(spec) };
  }

  /**
   * The drydock build written as an OCI layout (`--output type=oci,dest=DIR`); returns the layout
   * dir. The BuildKit stand-in copies its image out of dockerd with `skopeo copy` instead.
   */
  async ociLayout(name: string, spec: BuildSpec): Promise<string> {
    const dest = join(this.bench.tmp, 'oci', name);
    const tag = this.bench.tag(`${name}-oci`);
    if (NATIVE_SIDE !== 'drydock') {
      const built = await this.buildkit(`${name}-oci`, spec);
      await mkdir(join(this.bench.tmp, 'oci'), { recursive: true });
      ok(
        'skopeo copy',
        await exec('skopeo', ['copy', `docker-daemon:${built}`, `oci:${dest}:${tag.split(':').pop()}`]),
      );
      return dest;
    }
    const args = [
      'build',
      spec.image,
      '-c',
      await this.project(),
      '--output',
      `type=oci,dest=${dest}`,
      '-t',
      tag,
      ...nativeFlags(spec),
    ];
    ok(`drydock ${args.join(' ')}`, await drydock(args, { env: this.nativeEnv(spec) }));
    return dest;
  }

  /**
   * Both builds, run at once, then both snapshots. `againSpec` replaces `spec` for the second
   * BuildKit build that stands in for drydock (DRYDOCK_EQUIVALENCE_NATIVE=buildkit) only.
   */
  async pair(name: string, spec: BuildSpec, againSpec: BuildSpec = spec): Promise<Pair> {
    const [a, b] = await Promise.all([
      this.buildkit(name, spec),
      NATIVE_SIDE === 'drydock'
        ? this.native(name, spec)
        : this.buildkit(`${name}-again`, againSpec, againSpec.noCache ?? true),
    ]);
    const [buildkit, native] = await Promise.all([snapshot('buildkit', a), snapshot(NATIVE_SIDE, b)]);
    return { buildkit, drydock: native };
  }
}

/** `--arg`, `--secret` and `--target` for `drydock build`. */
function nativeFlags(spec: BuildSpec): string[] {
  return [
    ...Object.entries(spec.args ?? {}).flatMap(([k, v]) => ['--arg', `${k}=${v}`]),
    ...(spec.secrets ?? []).flatMap((s) => ['--secret', secretFlag(s)]),
    ...(spec.target ? ['--target', spec.target] : []),
  ];
}

/** The same `--secret` value for both tools: `id=ID,src=FILE` or `id=ID,env=VAR`. */
function secretFlag(s: SecretGiven): string {
  return 'file' in s ? `id=${s.id},src=${s.file}` : `id=${s.id},env=${s.env}`;
}

function secretEnv(spec: BuildSpec): Record<string, string> {
  return {
    ...spec.env,
    ...Object.fromEntries((spec.secrets ?? []).flatMap((s) => ('env' in s ? [[s.env, s.value]] : []))),
  };
}

/** `drydock emit -c <config> -o <dir>`, with the written files read back (as test/e2e/emitted.ts). */
async function emitTo(config: string, dir: string): Promise<Emitted> {
  ok(`drydock emit -c ${config}`, await drydock(['emit', '-c', config, '-o', dir]));
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name), 'utf8'));
  const bake = JSON.parse(files.get('docker-bake.json') ?? 'null') as Emitted['bake'] | null;
  if (!bake) throw new Error(`drydock emit -c ${config} wrote no docker-bake.json`);
  return { dir, bake, files };
}

/**
 * Starts every build at once and hands each test its own promise, so one image failing to build
 * fails only the tests of that image.
 */
export function startAll<K extends string, T = Pair>(builds: Record<K, () => Promise<T>>): Record<K, Promise<T>> {
  const out = {} as Record<K, Promise<T>>;
  for (const key of Object.keys(builds) as K[]) {
    const p = builds[key]();
    p.catch(() => undefined); // reported by the test that awaits it
    out[key] = p;
  }
  return out;
}
