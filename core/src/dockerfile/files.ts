/**
 * The files `drydock emit` writes, writing them, and `drydock emit --check` (are they up to date?).
 * Only this module touches the disk; everything it writes comes from the pure emitters.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { error, type Diagnostic } from '../diagnostics/index.js';
import type { SecretSource } from '../dsl/types.js';
import type { Graph } from '../graph/types.js';
import { dockerfileName, emitBake, selectImages } from './bake.js';
import { emitDockerfile } from './dockerfile.js';
import { emitDockerignore } from './dockerignore.js';

export interface EmitInput {
  graph: Graph;
  /** The config file (absolute, or relative to configDir). */
  configFile: string;
  configDir: string;
  outDir: string;
  /** Only these images (default: all). */
  images?: string[];
  /** Secret sources from the config, for the bake file. */
  secrets?: Record<string, SecretSource>;
}

export const BAKE_FILE = 'docker-bake.json';

/** Every file emit writes, by absolute path, in a stable order: per image its Dockerfile and ignore file, then the bake file. */
export async function emitFiles(input: EmitInput): Promise<Map<string, string>> {
  const outDir = path.resolve(input.outDir);
  const configFile = posix(path.relative(outDir, path.resolve(input.configDir, input.configFile)));
  const files = new Map<string, string>();
  for (const image of selectImages(input.graph, input.images)) {
    const dockerfile = path.join(outDir, dockerfileName(image.name));
    files.set(dockerfile, emitDockerfile(input.graph, image.name, { configFile }));
    const contextIgnore = await readIfExists(path.resolve(input.configDir, image.context, '.dockerignore'));
    files.set(`${dockerfile}.dockerignore`, emitDockerignore(image, contextIgnore));
  }
  const bakeOptions = { outDir, configDir: input.configDir, ...(input.images ? { images: input.images } : {}) };
  files.set(
    path.join(outDir, BAKE_FILE),
    emitBake(input.graph, input.secrets ? { ...bakeOptions, secrets: input.secrets } : bakeOptions),
  );
  return files;
}

/** Writes the files that differ (temp file + rename, so readers never see half a file); returns those written. */
export async function writeEmitted(files: ReadonlyMap<string, string>): Promise<string[]> {
  const written: string[] = [];
  for (const [file, content] of files) {
    if ((await readIfExists(file)) === content) continue;
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, content);
      await rename(temp, file);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    written.push(file);
  }
  return written;
}

/** One DD170 per file that is missing or differs from what the config produces now. */
export async function checkEmitted(files: ReadonlyMap<string, string>): Promise<Diagnostic[]> {
  const diagnostics: Diagnostic[] = [];
  for (const [file, content] of files) {
    const actual = await readIfExists(file);
    if (actual === content) continue;
    const shown = display(file);
    diagnostics.push(
      error(
        'DD170',
        actual === undefined
          ? `${shown} is missing; run \`drydock emit\` to write it`
          : `${shown} differs from what the config produces; run \`drydock emit\` to update it`,
      ),
    );
  }
  return diagnostics;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Relative to the working directory when inside it: what a person running the CLI recognises. */
function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? posix(rel) : file;
}

function posix(p: string): string {
  return p.split(path.sep).join('/');
}
