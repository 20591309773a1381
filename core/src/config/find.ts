import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { DiagnosticError, error } from '../diagnostics/index.js';

/** The names a directory is searched for, in order: TypeScript first, then plain ESM JavaScript. */
export const CONFIG_NAMES = ['images.config.ts', 'images.config.mts', 'images.config.js', 'images.config.mjs'] as const;

const LOOKED_FOR = CONFIG_NAMES.join(', ');

/**
 * The absolute, symlink-free path of the config `target` names: the file itself, or the first of
 * CONFIG_NAMES in a directory. Symlinks are resolved because Node's module loader does too, so the
 * file names in stack frames (and thus in `loc`) are the same string as the one returned here.
 */
export async function findConfig(target: string, cwd: string = process.cwd()): Promise<string> {
  const abs = path.resolve(cwd, target);
  const kind = await kindOf(abs);
  if (kind === 'file') return realpath(abs);
  if (kind === 'missing') {
    throw new DiagnosticError([
      error('DD100', `config not found: ${abs} does not exist`, {
        hint: `pass a config file, or a directory holding one of ${LOOKED_FOR}`,
      }),
    ]);
  }
  for (const name of CONFIG_NAMES) {
    const candidate = path.join(abs, name);
    if ((await kindOf(candidate)) === 'file') return realpath(candidate);
  }
  throw new DiagnosticError([
    error('DD100', `config not found: no ${LOOKED_FOR} in ${abs}`, {
      hint: 'create images.config.ts there, or pass the path of the config file',
    }),
  ]);
}

async function kindOf(p: string): Promise<'file' | 'dir' | 'missing'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}
