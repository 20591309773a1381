/**
 * `docker-bake.json` for `docker buildx bake`: a `default` group of every image and one target per
 * image pointing at its emitted Dockerfile.
 *
 * Paths are relative to the output directory, where the bake file lives (buildx resolves `context`
 * against the bake file's directory in recent releases and against the working directory in older
 * ones, so run bake from there); `dockerfile` is relative to the context, as bake reads it.
 *
 * Secrets: env secrets become `id=ID,env=VAR`; file secrets `id=ID,src=PATH`; a file named by an
 * environment variable becomes `id=ID,src=${VAR}` with VAR declared as a bake `variable` (bake fills
 * declared variables from the environment). Command secrets have no bake form and bake rejects
 * unknown keys, so they are left out: build such images with drydock, or pass `--set
 * <image>.secret=id=ID,src=FILE`. Every other string is escaped so bake's `${…}`/`%{…}`
 * interpolation leaves it alone.
 */
import * as path from 'node:path';
import type { SecretSource } from '../dsl/types.js';
import type { Graph, ImageGraph } from '../graph/types.js';
import { findImage } from './args.js';
import { dockerfileArgs } from './dockerfile.js';

export interface EmitBakeOptions {
  /** Where the Dockerfiles and the bake file are written (absolute, or relative to the cwd). */
  outDir: string;
  /** The config file's directory: image contexts and file secrets are relative to it. */
  configDir: string;
  /** Only these images (default: all, in graph order). */
  images?: string[];
  /** Secret sources from the config (the graph holds secret ids only). */
  secrets?: Record<string, SecretSource>;
}

interface BakeTarget {
  context: string;
  dockerfile: string;
  target: string;
  args: Record<string, string>;
  tags: string[];
  platforms?: string[];
  secret?: string[];
  ssh?: string[];
}

export function dockerfileName(image: string): string {
  return `${image}.Dockerfile`;
}

export function selectImages(graph: Graph, names: readonly string[] | undefined): ImageGraph[] {
  return names === undefined ? graph.images : names.map((n) => findImage(graph, n));
}

export function emitBake(graph: Graph, options: EmitBakeOptions): string {
  const outDir = path.resolve(options.outDir);
  const images = selectImages(graph, options.images);
  const variables = new Set<string>();
  const targets: Record<string, BakeTarget> = {};
  for (const image of images) {
    const contextDir = path.resolve(options.configDir, image.context);
    const target: BakeTarget = {
      context: esc(posix(path.relative(outDir, contextDir)) || '.'),
      dockerfile: esc(posix(path.relative(contextDir, path.join(outDir, dockerfileName(image.name))))),
      target: esc(image.target),
      args: Object.fromEntries(
        dockerfileArgs(graph, image.name).flatMap((a) => (a.value === undefined ? [] : [[a.name, esc(a.value)]])),
      ),
      tags: image.tags.map(esc),
    };
    if (image.platforms.length) target.platforms = image.platforms.map(esc);
    const secret = secretIds(graph, image).flatMap((id) => {
      const entry = secretEntry(id, options.secrets?.[id], outDir, options.configDir);
      if (entry?.variable) variables.add(entry.variable);
      return entry ? [entry.spec] : [];
    });
    if (secret.length) target.secret = secret;
    const ssh = sshIds(image);
    if (ssh.length) target.ssh = ssh.map(esc);
    targets[image.name] = target;
  }
  const bake: Record<string, unknown> = {};
  if (variables.size) {
    bake.variable = Object.fromEntries([...variables].sort().map((v) => [v, { default: '' }]));
  }
  bake.group = { default: { targets: images.map((i) => esc(i.name)) } };
  bake.target = targets;
  return JSON.stringify(bake, null, 2) + '\n';
}

/** Secret ids the image's RUN steps mount, in `graph.secrets` order. */
export function secretIds(graph: Graph, image: ImageGraph): string[] {
  const used = new Set<string>();
  for (const stage of image.stages) {
    for (const node of stage.nodes) {
      if (node.op === 'run') for (const m of node.mounts) if (m.type === 'secret') used.add(m.id);
    }
  }
  const ordered = graph.secrets.filter((id) => used.has(id));
  return [...ordered, ...[...used].filter((id) => !ordered.includes(id)).sort()];
}

/** SSH agent ids the image's RUN steps mount (`default` when a mount names none). */
function sshIds(image: ImageGraph): string[] {
  const ids = new Set<string>();
  for (const stage of image.stages) {
    for (const node of stage.nodes) {
      if (node.op === 'run') for (const m of node.mounts) if (m.type === 'ssh') ids.add(m.id ?? 'default');
    }
  }
  return [...ids].sort();
}

function secretEntry(
  id: string,
  source: SecretSource | undefined,
  outDir: string,
  configDir: string,
): { spec: string; variable?: string } | undefined {
  switch (source?.from) {
    case 'env':
      return { spec: esc(csv([`id=${id}`, `env=${source.name}`])) };
    case 'file':
      return {
        spec: esc(csv([`id=${id}`, `src=${posix(path.relative(outDir, path.resolve(configDir, source.path)))}`])),
      };
    case 'file-env':
      // The only deliberate interpolation in the file; the name is a bake variable declared above.
      return { spec: esc(csv([`id=${id}`])) + ',src=${' + source.name + '}', variable: source.name };
    default:
      return undefined; // command secrets, or a source the caller did not pass
  }
}

/** buildx reads secret specs as CSV. */
function csv(fields: string[]): string {
  return fields.map((f) => (/[",\s]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}

/** Escapes bake's HCL template syntax so the string is taken literally. */
function esc(s: string): string {
  return s.replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);
}

function posix(p: string): string {
  return p.split(path.sep).join('/');
}
