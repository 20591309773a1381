// `--output` values as buildx reads them (comma-separated key=value fields, CSV quoting), and the
// writer for each: OCI layout dir, OCI archive, docker archive, a push, a load into docker.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  sha256,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
  type ImageSource,
  type ImageTag,
} from '../oci/index.js';
import { RegistryClient, formatReference, parseReference } from '../registry/index.js';
import { ExportError } from './errors.js';
import { loadImage, type EngineName } from './load.js';
import { pushImage, type PushProgressEvent } from './push.js';
import { imageTags } from './tags.js';

export type OutputSpec =
  /** OCI image layout directory (buildx `type=oci,tar=false`). */
  | { type: 'oci'; dest: string; names?: string[] }
  /** OCI layout as one tar (`type=oci-archive`, or `type=oci,tar=true`). */
  | { type: 'oci-archive'; dest: string; names?: string[] }
  /** `docker load` tarball (`type=docker-archive`, or buildx's `type=docker,dest=FILE`). */
  | { type: 'docker-archive'; dest: string; names?: string[] }
  /** Push (`type=registry`, buildx's shorthand for `type=image,push=true`). */
  | { type: 'registry'; names?: string[] }
  /** Load into the local engine (buildx `type=docker` without dest). */
  | { type: 'load'; engine: EngineName; names?: string[] };

const TYPES = ['oci', 'oci-archive', 'docker-archive', 'docker', 'registry'] as const;
type TypeName = (typeof TYPES)[number];
const KEYS: Record<TypeName, readonly string[]> = {
  oci: ['dest', 'name', 'tar'],
  'oci-archive': ['dest', 'name'],
  'docker-archive': ['dest', 'name'],
  docker: ['dest', 'name'],
  registry: ['name'],
};

/** Splits one CSV record as Go's encoding/csv does (what buildx uses): `"a,b"` quotes, `""` escapes. */
function csvFields(spec: string, bad: (why: string) => ExportError): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (spec[i] === '"') {
      i++;
      for (;;) {
        if (i >= spec.length) throw bad('unterminated quote');
        if (spec[i] === '"') {
          if (spec[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += spec[i++];
      }
      if (i < spec.length && spec[i] !== ',') throw bad(`unexpected ${JSON.stringify(spec[i])} after a closing quote`);
    } else {
      const end = spec.indexOf(',', i);
      field = spec.slice(i, end === -1 ? spec.length : end);
      if (field.includes('"')) throw bad(`bare " in ${JSON.stringify(field)}`);
      i = end === -1 ? spec.length : end;
    }
    fields.push(field);
    if (i >= spec.length) return fields;
    i++; // the comma
  }
}

/** Parses an `--output` value. Throws ExportError EOUTPUT naming the bad key and the allowed ones. */
export function parseOutput(spec: string): OutputSpec {
  const bad = (why: string) => new ExportError('EOUTPUT', `--output ${JSON.stringify(spec)}: ${why}`);
  if (spec.trim() === '') throw bad(`empty (expected e.g. type=oci,dest=out)`);
  const attrs = new Map<string, string>();
  for (const field of csvFields(spec, bad)) {
    const eq = field.indexOf('=');
    if (eq <= 0) throw bad(`${JSON.stringify(field)} is not key=value (expected e.g. type=oci,dest=out)`);
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1);
    if (attrs.has(key)) throw bad(`key ${key} given twice`);
    attrs.set(key, value);
  }
  const type = attrs.get('type');
  const allowedTypes = TYPES.join(', ');
  if (type === undefined) throw bad(`missing type= (allowed: ${allowedTypes})`);
  if (!(TYPES as readonly string[]).includes(type)) {
    throw bad(`unknown type ${JSON.stringify(type)} (allowed: ${allowedTypes})`);
  }
  const t = type as TypeName;
  for (const [key, value] of attrs) {
    if (key === 'type') continue;
    if (!KEYS[t].includes(key)) {
      throw bad(`unknown key ${JSON.stringify(key)} for type=${t} (allowed: ${KEYS[t].join(', ')})`);
    }
    if (value.trim() === '') throw bad(`${key}= is empty`);
  }
  const names = attrs.has('name') ? nameList(attrs.get('name')!, bad) : undefined;
  const withNames = <T extends object>(o: T): T & { names?: string[] } => (names ? { ...o, names } : o);
  const dest = attrs.get('dest');
  const needDest = () => {
    if (dest === undefined) throw bad(`type=${t} needs dest=`);
    return dest;
  };
  switch (t) {
    case 'oci': {
      const tar = attrs.get('tar') ?? 'false';
      if (tar !== 'true' && tar !== 'false') throw bad(`tar=${tar}: allowed values are true, false`);
      return withNames({ type: tar === 'true' ? 'oci-archive' : 'oci', dest: needDest() });
    }
    case 'oci-archive':
    case 'docker-archive':
      return withNames({ type: t, dest: needDest() });
    case 'docker':
      return dest === undefined
        ? withNames({ type: 'load', engine: 'docker' as const })
        : withNames({ type: 'docker-archive', dest });
    case 'registry':
      return withNames({ type: 'registry' });
  }
}

function nameList(value: string, bad: (why: string) => ExportError): string[] {
  const names = value.split(',').map((n) => n.trim());
  for (const name of names) {
    try {
      parseReference(name);
    } catch (error) {
      throw bad(`name: ${(error as Error).message}`);
    }
  }
  return names;
}

export interface WriteOutputOptions {
  /** Registry client for type=registry (default: a new RegistryClient with the docker config). */
  client?: RegistryClient;
  mountFrom?: string[];
  onProgress?: (e: PushProgressEvent) => void;
  signal?: AbortSignal;
  /** mtime of archive members (SOURCE_DATE_EPOCH); default 0. */
  epoch?: number;
  /** For type=docker loads: the CLI to run (see loadImage). */
  binary?: string;
  env?: NodeJS.ProcessEnv;
}

export interface OutputResult {
  /** Manifest digest (every output type). */
  digest: string;
  /** Pushed references (registry). */
  refs?: string[];
  /** Image id in the local engine (load). */
  imageId?: string;
}

/**
 * Delivers `image` as `spec` says. `tags` name it (OCI ref names, docker RepoTags, push targets);
 * a spec's `name=` replaces them.
 */
export async function writeOutput(
  spec: OutputSpec,
  image: ImageSource,
  tags: ImageTag[],
  options: WriteOutputOptions = {},
): Promise<OutputResult> {
  options.signal?.throwIfAborted();
  const named = spec.names ? imageTags(spec.names, `type=${spec.type}`) : tags;
  const epoch = options.epoch ?? 0;
  const digest = sha256(image.manifest);
  const fullNames = () => {
    const names = named.flatMap((t) => (t.name ? [t.name] : []));
    if (names.length === 0) {
      throw new ExportError(
        'EOUTPUT',
        `type=${spec.type}: no image name to ${spec.type === 'load' ? 'tag' : 'push'} (give name= or a tag)`,
      );
    }
    return names;
  };
  switch (spec.type) {
    case 'oci':
      await writeOciLayout(spec.dest, image, { tags: named, epoch });
      return { digest };
    case 'oci-archive':
      await mkdir(dirname(spec.dest), { recursive: true });
      await writeOciArchive(spec.dest, image, { tags: named, epoch });
      return { digest };
    case 'docker-archive':
      await mkdir(dirname(spec.dest), { recursive: true });
      await writeDockerArchive(spec.dest, image, { tags: named, epoch });
      return { digest };
    case 'registry': {
      const refs = fullNames().map((n) => formatReference(parseReference(n)));
      const pushed = await pushImage({
        client: options.client ?? new RegistryClient(),
        image,
        refs,
        ...(options.mountFrom ? { mountFrom: options.mountFrom } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return { digest: pushed.digest, refs: pushed.refs };
    }
    case 'load': {
      const loaded = await loadImage({
        image,
        tags: fullNames(),
        engine: spec.engine,
        ...(options.binary ? { binary: options.binary } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.env ? { env: options.env } : {}),
      });
      return { digest, imageId: loaded.imageId };
    }
  }
}
