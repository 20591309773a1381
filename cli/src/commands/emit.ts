import { join, resolve } from 'node:path';
import { checkEmitted, emitFiles, writeEmitted, type AnyConfig, type SecretSource } from '@drydock/core';
import { flag, openProject, stringOption, type Command } from '../context.js';
import { checkImageNames } from '../images.js';

/**
 * Where emit writes unless told: `dockerfiles/` next to the config. Visible and committable, since
 * the point of emitting is that CI (or anyone with BuildKit) builds without drydock, and
 * `emit --check` keeps the committed files in sync with the config.
 */
export const DEFAULT_OUT_DIR = 'dockerfiles';

/** `drydock emit [IMAGE...] [-o DIR] [--check]`. */
export const emit: Command = async (ctx) => {
  const project = await openProject(ctx, { requireArgValues: false });
  const images = [...new Set(ctx.line.positionals)];
  checkImageNames(project.graph, images);
  const outOption = stringOption(ctx, 'out-dir');
  const outDir = outOption === undefined ? join(project.dir, DEFAULT_OUT_DIR) : resolve(ctx.cwd, outOption);
  const files = await emitFiles({
    graph: project.graph,
    configFile: project.file,
    configDir: project.dir,
    outDir,
    ...(images.length > 0 ? { images } : {}),
    secrets: secretSources(project.config),
  });

  if (flag(ctx, 'check')) {
    const differences = await checkEmitted(files);
    if (differences.length > 0) {
      ctx.out.diagnostics(differences);
      return 1;
    }
    ctx.out.ok(`ok: ${files.size} files in ${ctx.out.relative(outDir)} are up to date`);
    return 0;
  }
  // stdout lists exactly the files written (scripts can act on them); the rest is a note.
  const written = await writeEmitted(files);
  for (const file of written) ctx.out.print(ctx.out.relative(file));
  if (written.length === 0) ctx.out.note(`${files.size} files in ${ctx.out.relative(outDir)} are up to date`);
  return 0;
};

function secretSources(config: AnyConfig): Record<string, SecretSource> {
  return Object.fromEntries(Object.entries(config.secrets ?? {}).map(([id, spec]) => [id, spec.source]));
}
