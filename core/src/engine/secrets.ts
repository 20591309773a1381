/**
 * Secret values, read when a RUN step mounts them and never earlier: from the config's sources
 * (env var, file, file named by an env var, command output) or a command-line override
 * (`--secret id=ID,src=FILE` / `id=ID,env=VAR`, as buildx spells it). Values live in memory only;
 * they reach a step through a tmpfs file or its environment, and `mask` scrubs them from anything
 * drydock prints.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SecretSource, SecretSpecs } from '../dsl/types.js';

export class SecretError extends Error {
  override name = 'SecretError';
  constructor(
    readonly id: string,
    message: string,
  ) {
    super(`secret "${id}": ${message}`);
  }
}

/** Parses `id=ID,src=FILE` | `id=ID,env=VAR` (also `source=`, `type=file|env`). */
export function parseSecretFlag(flag: string): { id: string; source: SecretSource } {
  const fields = new Map<string, string>();
  for (const part of flag.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--secret ${flag}: expected key=value pairs (id=ID,src=FILE or id=ID,env=VAR)`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1));
  }
  const id = fields.get('id');
  if (!id) throw new Error(`--secret ${flag}: missing id= (id=ID,src=FILE or id=ID,env=VAR)`);
  for (const key of fields.keys()) {
    if (!['id', 'src', 'source', 'env', 'type'].includes(key)) {
      throw new Error(`--secret ${flag}: unknown key "${key}" (allowed: id, src, source, env, type)`);
    }
  }
  const src = fields.get('src') ?? fields.get('source');
  const env = fields.get('env');
  const type = fields.get('type');
  if (type === 'env' || (env !== undefined && src === undefined))
    return { id, source: { from: 'env', name: env ?? src ?? id } };
  if (src !== undefined) return { id, source: { from: 'file', path: src } };
  // buildx: `id=X` alone reads the env var X.
  return { id, source: { from: 'env', name: id } };
}

export class Secrets {
  private readonly cache = new Map<string, Promise<Buffer | undefined>>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly specs: SecretSpecs,
    private readonly overrides: ReadonlyMap<string, SecretSource>,
    /** Directory relative secret files (and commands) are resolved against: the config's. */
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    /** Directory command-line `src=` paths are relative to. */
    private readonly cwd: string = dir,
  ) {}

  /** The value, or undefined when its source is absent (an env var unset, a file missing). */
  read(id: string): Promise<Buffer | undefined> {
    let value = this.cache.get(id);
    if (!value) {
      value = this.load(id).then((v) => {
        if (v && v.length > 0) this.seen.add(v.toString('utf8'));
        return v;
      });
      this.cache.set(id, value);
    }
    return value;
  }

  private async load(id: string): Promise<Buffer | undefined> {
    const override = this.overrides.get(id);
    const source = override ?? this.specs[id]?.source;
    if (!source) return undefined;
    const base = override ? this.cwd : this.dir;
    switch (source.from) {
      case 'env': {
        const v = this.env[source.name];
        return v === undefined ? undefined : Buffer.from(v, 'utf8');
      }
      case 'file':
        return readIfExists(resolve(base, source.path));
      case 'file-env': {
        const path = this.env[source.name];
        return path ? readIfExists(resolve(base, path)) : undefined;
      }
      case 'command':
        return new Promise((ok, fail) => {
          execFile(
            '/bin/sh',
            ['-c', source.command],
            { cwd: base, env: this.env, encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
            (error, stdout) => {
              if (error)
                fail(new SecretError(id, `command \`${source.command}\` failed: ${error.message.split('\n')[0]}`));
              else ok(stdout);
            },
          );
        });
    }
  }

  /** Replaces every secret value read so far with `****` (for logs and error messages). */
  mask(text: string): string {
    let out = text;
    for (const value of this.seen) {
      for (const form of [value, value.trim()]) if (form.length >= 3) out = out.split(form).join('****');
    }
    return out;
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
