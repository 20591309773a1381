import { build as buildImages, prepareBuild, type BuildEvent } from '@drydock/core';
import { flag, openProject, stringOption, type Command, type CommandContext } from '../context.js';
import { checkImageNames } from '../images.js';
import { UsageError } from '../usage.js';
import { noteEventArea } from '../code-areas.js';
import { engineErrorMessage } from '../engine-errors.js';
import { watchCommand } from './watch.js';

const PROGRESS = ['auto', 'plain', 'quiet', 'json'] as const;
type Progress = (typeof PROGRESS)[number];

/** `drydock build [IMAGE...]`: build with drydock's own engine; deliver with --output, --load, --push. */
export const build: Command = async (ctx) => {
  const progress = (stringOption(ctx, 'progress') ?? 'auto') as Progress;
  if (!PROGRESS.includes(progress)) {
    throw new UsageError(`--progress ${progress}: expected ${PROGRESS.join(', ')}`, 'build');
  }
  const watching = flag(ctx, 'watch');
  if (progress === 'json' && !watching) throw new UsageError('--progress json: only with --watch', 'build');
  for (const name of ['run', 'on-build', 'verbose']) {
    if (ctx.line.options.has(name) && !watching) throw new UsageError(`--${name}: only with --watch`, 'build');
  }
  if (flag(ctx, 'run') && ctx.line.options.has('on-build')) {
    throw new UsageError('--run and --on-build: choose one', 'build');
  }
  prepareBuild();
  const project = await openProject(ctx);
  const images = [...new Set(ctx.line.positionals)];
  checkImageNames(project.graph, images);
  const target = stringOption(ctx, 'target');
  const list = (name: string): string[] => {
    const v = ctx.line.options.get(name);
    return Array.isArray(v) ? v : [];
  };
  // What the command line asks of every build, watched or not.
  const asked = {
    images,
    ...(target !== undefined ? { target } : {}),
    secretFlags: list('secret'),
    outputs: list('output'),
    tags: list('tag'),
    noCache: flag(ctx, 'no-cache'),
    updateLock: flag(ctx, 'update-lock'),
    load: flag(ctx, 'load'),
    push: flag(ctx, 'push'),
  };
  if (watching) {
    if (flag(ctx, 'run') && (images.length === 0 ? project.graph.images.length : images.length) !== 1) {
      throw new UsageError('--run starts one image: name it (drydock build --watch --run IMAGE)', 'build');
    }
    return watchCommand(ctx, {
      progress,
      verbose: flag(ctx, 'verbose'),
      run: flag(ctx, 'run'),
      onBuild: stringOption(ctx, 'on-build'),
      build: asked,
    });
  }
  // Ctrl-C (or SIGTERM) cancels: running steps are killed and cleaned up, finished ones stay cached.
  const abort = new AbortController();
  const cancel = (): void => abort.abort(new Error('build cancelled'));
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  try {
    const result = await buildImages({
      signal: abort.signal,
      graph: project.graph,
      dir: project.dir,
      cwd: ctx.cwd,
      env: ctx.env,
      secrets: project.config.secrets ?? {},
      ...asked,
      onEvent: (event) => {
        noteEventArea(event);
        report(ctx, progress as Exclude<Progress, 'json'>, event);
      },
      // As the executable's early start names it (core/src/prepare.ts).
      invocation: [process.cwd(), ...process.argv.slice(2)],
    });
    for (const image of result.images) {
      const as = image.tags.length > 0 ? `  ${image.tags.join(', ')}` : '';
      ctx.out.print(`${image.name}  ${image.manifestDigest}${as}`);
    }
    for (const failure of result.failures) ctx.out.note(`drydock: error: ${failure.message}`);
    if (abort.signal.aborted) {
      ctx.out.note('drydock: build cancelled');
      return 130;
    }
    if (result.failures.length > 0) return 1;
    if (progress !== 'quiet') {
      const n = result.executed.length;
      ctx.out.note(
        `built ${result.images.length} image${result.images.length === 1 ? '' : 's'}, ${n} step${n === 1 ? '' : 's'} executed`,
      );
    }
    return 0;
  } catch (error) {
    if (abort.signal.aborted) {
      ctx.out.note('drydock: build cancelled');
      return 130;
    }
    const message = engineErrorMessage(error);
    if (message === undefined) throw error;
    ctx.out.note(`drydock: error: ${message}`);
    return 1;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
};

function report(ctx: CommandContext, progress: Exclude<Progress, 'json'>, event: BuildEvent): void {
  if (progress === 'quiet') return;
  if (event.type === 'pull') {
    if (progress === 'plain') ctx.out.note(`pulled ${event.ref}@${event.digest}`);
    return;
  }
  if (event.type === 'output') {
    if (progress === 'plain') {
      for (const line of event.text.replace(/\n$/, '').split('\n')) {
        ctx.out.note(`[${event.image}/${event.stage} ${event.index}] ${line}`);
      }
    }
    return;
  }
  const where = `[${event.image}/${event.stage} ${event.index}/${event.total}]`;
  if (event.state === 'cached') ctx.out.note(`${where} CACHED ${event.text}`);
  else if (event.state === 'done') ctx.out.note(`${where} ${event.text}  ${(event.ms! / 1000).toFixed(1)}s`);
  else if (event.state === 'failed') ctx.out.note(`${where} FAILED ${event.text}`);
  else if (event.state === 'running' && progress === 'plain') ctx.out.note(`${where} ${event.text}`);
}
