/**
 * What `drydock emit` wrote, read back, and builds of it with the engine's docker client: the
 * Dockerfile and context come from docker-bake.json, so each build also checks the bake file.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { docker, drydock, ok } from './helpers.js';

export interface BakeTarget {
  context: string;
  dockerfile: string;
  tags?: string[];
  args?: Record<string, string>;
  secret?: string[];
  target?: string;
}
export interface Emitted {
  dir: string;
  bake: { group: { default: { targets: string[] } }; target: Record<string, BakeTarget> };
  /** The emitted files by name, read right after emit. */
  files: Map<string, string>;
}

/** `drydock emit -c <config> -o <dir>`, with the written files read back. */
export async function emitTo(config: string, dir: string, extra: readonly string[] = []): Promise<Emitted> {
  ok(`drydock emit -c ${config}`, await drydock(['emit', '-c', config, '-o', dir, ...extra]));
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name), 'utf8'));
  const bake = JSON.parse(files.get('docker-bake.json') ?? 'null') as Emitted['bake'];
  if (!bake)
    throw new Error(`drydock emit -c ${config} wrote no docker-bake.json (wrote: ${[...files.keys()].join(', ')})`);
  return { dir, bake, files };
}

/** An image's build inputs as the bake file gives them: context relative to the bake file, Dockerfile to the context. */
export function target(e: Emitted, image: string): { context: string; dockerfile: string; bake: BakeTarget } {
  const t = e.bake.target[image];
  if (!t) throw new Error(`docker-bake.json has no target "${image}" (has: ${Object.keys(e.bake.target).join(', ')})`);
  const context = resolve(e.dir, t.context);
  return { context, dockerfile: resolve(context, t.dockerfile), bake: t };
}

export interface BuildOptions {
  args?: Record<string, string | number>;
  secrets?: string[];
  target?: string;
  noCache?: boolean;
  /** Build this context instead of the bake file's (same Dockerfile). */
  context?: string;
}

export function buildArgs(tag: string, e: Emitted, image: string, o: BuildOptions = {}): string[] {
  const t = target(e, image);
  return [
    'build',
    '--progress=plain',
    '-f',
    t.dockerfile,
    '-t',
    tag,
    ...Object.entries(o.args ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...(o.secrets ?? []).flatMap((s) => ['--secret', s]),
    ...(o.target ? ['--target', o.target] : []),
    ...(o.noCache ? ['--no-cache'] : []),
    o.context ?? t.context,
  ];
}

/** `DOCKER_BUILDKIT=1 docker build -f <emitted Dockerfile> -t <tag> <context>`; returns the tag. */
export async function buildImage(tag: string, e: Emitted, image: string, o: BuildOptions = {}): Promise<string> {
  const args = buildArgs(tag, e, image, o);
  ok(`docker ${args.join(' ')}`, await docker(args));
  return tag;
}

export async function inspect(tag: string): Promise<ImageConfig> {
  const r = ok(`docker image inspect ${tag}`, await docker(['image', 'inspect', tag]));
  return (JSON.parse(r.stdout) as { Config: ImageConfig }[])[0]!.Config;
}
export interface ImageConfig {
  User: string;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir: string;
  ExposedPorts?: Record<string, object>;
  Labels: Record<string, string> | null;
  Healthcheck?: { Test: string[]; Interval?: number; Retries?: number };
}

export const envOf = (c: ImageConfig) =>
  Object.fromEntries(c.Env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
