import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { error, type Diagnostic } from '../diagnostics/index.js';
import type { SecretSource, SecretSpecs, SourceLoc } from '../dsl/types.js';
import type { Graph } from '../graph/types.js';

export interface HostCheckInput {
  graph: Graph;
  /** The config's directory: contexts and secret file paths are relative to it. */
  configDir: string;
  secrets: SecretSpecs;
  /** The environment secrets are read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Problems only the host can show, found before a build starts: an image's context directory is
 * missing (DD121), or a secret some RUN step mounts has no source here (DD140). Secret values are
 * never read: env vars are only tested for presence, files only stat'ed, commands only looked up.
 */
export async function checkHost(input: HostCheckInput): Promise<Diagnostic[]> {
  const env = input.env ?? process.env;
  const out: Diagnostic[] = [];
  for (const image of input.graph.images) {
    const dir = path.resolve(input.configDir, image.context);
    if (!(await isDir(dir))) {
      out.push(
        error('DD121', `image "${image.name}": build context ${dir} is not a directory`, {
          hint: 'create it, or fix `context` (it is relative to the config file)',
          ...(image.loc ? { loc: image.loc } : {}),
          path: { image: image.name, field: 'context' },
        }),
      );
    }
  }
  for (const [id, loc] of usedSecrets(input.graph)) {
    const spec = input.secrets[id];
    if (!spec) continue; // an undeclared secret is the compiler's DD141
    const problem = await missing(spec.source, input.configDir, env);
    if (problem) {
      out.push(
        error('DD140', `secret "${id}": ${problem}`, {
          hint: 'provide it before building, or drop the mount',
          ...(loc ? { loc } : {}),
        }),
      );
    }
  }
  return out;
}

/**
 * Secret ids that some RUN node requires, with the first such step's loc, in graph order. A mount
 * with `required: false` runs without its secret, so a missing source is not a problem for it.
 */
function usedSecrets(graph: Graph): Map<string, SourceLoc | undefined> {
  const used = new Map<string, SourceLoc | undefined>();
  for (const image of graph.images) {
    for (const stage of image.stages) {
      for (const node of stage.nodes) {
        if (node.op !== 'run') continue;
        for (const m of node.mounts)
          if (m.type === 'secret' && m.required !== false && !used.has(m.id)) used.set(m.id, node.loc);
      }
    }
  }
  return used;
}

/** Why the source cannot be read on this host, or undefined when it can. */
async function missing(source: SecretSource, configDir: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  switch (source.from) {
    case 'env':
      return env[source.name] === undefined ? `environment variable ${source.name} is not set` : undefined;
    case 'file': {
      const file = path.resolve(configDir, source.path);
      if (await isFile(file)) return undefined;
      return file === source.path ? `file ${file} does not exist` : `file ${source.path} (${file}) does not exist`;
    }
    case 'file-env': {
      const value = env[source.name];
      if (!value) return `environment variable ${source.name} (the secret file's path) is not set or empty`;
      const file = path.resolve(configDir, value);
      return (await isFile(file)) ? undefined : `file ${file} (from ${source.name}) does not exist`;
    }
    case 'command': {
      const program = programOf(source.command);
      if (!program || SHELL_BUILTINS.has(program)) return undefined;
      return (await findProgram(program, configDir, env)) ? undefined : `command \`${program}\` is not on PATH`;
    }
  }
}

// Words the shell runs itself; they are never on PATH and need no check.
const SHELL_BUILTINS = new Set(
  'cd echo printf test [ true false read eval exec export set unset source . : command type if case for while'.split(
    ' ',
  ),
);

/** The program a shell command line starts, skipping leading `NAME=value` assignments. */
function programOf(command: string): string | undefined {
  for (const word of command.trim().split(/\s+/)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    return word.replace(/^(['"])(.*)\1$/, '$2') || undefined;
  }
  return undefined;
}

/** Looks `program` up the way a shell would: a path (relative to the command's cwd) or PATH. */
async function findProgram(program: string, cwd: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (program.includes('/')) return isExecutable(path.resolve(cwd, program));
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await isExecutable(path.join(dir, program)))) return true;
  }
  return false;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function isExecutable(p: string): Promise<boolean> {
  if (!(await isFile(p))) return false;
  return access(p, constants.X_OK).then(
    () => true,
    () => false,
  );
}
