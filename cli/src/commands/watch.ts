/**
 * `drydock build --watch`: runs core's watch session and renders what it reports: one JSON
 * object per line with `--progress json`, else one status line per image and cycle (building,
 * ok in N ms, failed), steps with `--progress plain`, the latency breakdown with `--verbose`.
 * Runs until Ctrl-C (or SIGTERM), which stops the build in progress and the container.
 */
import { resolve } from 'node:path';
import { findConfig, loadProject, watchBuild, type BuildOptions, type WatchEvent } from '@drydock/core';
import { stringOption, type CommandContext } from '../context.js';
import { engineErrorMessage } from '../engine-errors.js';
import { diagnosticsOf } from '../program.js';

export type WatchProgress = 'auto' | 'plain' | 'quiet' | 'json';

export interface WatchCommandOptions {
  progress: WatchProgress;
  verbose: boolean;
  run: boolean;
  onBuild: string | undefined;
  build: Omit<BuildOptions, 'graph' | 'dir' | 'secrets' | 'session' | 'signal' | 'onEvent' | 'storeRoot'>;
}

export async function watchCommand(ctx: CommandContext, o: WatchCommandOptions): Promise<number> {
  const config = stringOption(ctx, 'config');
  const configFile = await findConfig(resolve(ctx.cwd, config ?? '.'), ctx.cwd);
  const stop = new AbortController();
  const cancel = (): void => stop.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  const render = renderer(ctx, o);
  try {
    await watchBuild({
      configFile,
      load: async () => {
        const project = await loadProject({
          cwd: ctx.cwd,
          ...(config === undefined ? {} : { config }),
          args: ctx.line.args,
        });
        return {
          graph: project.graph,
          dir: project.dir,
          secrets: project.config.secrets ?? {},
          dependencies: project.dependencies,
        };
      },
      build: { ...o.build, cwd: ctx.cwd },
      env: ctx.env,
      ...(o.run ? { run: true } : {}),
      ...(o.onBuild !== undefined ? { onBuild: o.onBuild } : {}),
      signal: stop.signal,
      onEvent: render,
      describeError: (error) => {
        const diagnostics = diagnosticsOf(error);
        if (diagnostics) return ctx.out.diagnosticText(diagnostics);
        return engineErrorMessage(error) ?? (error instanceof Error ? error.message : String(error));
      },
    });
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
  return 130;
}

function renderer(ctx: CommandContext, o: WatchCommandOptions): (event: WatchEvent) => void {
  if (o.progress === 'json') {
    return (event) => {
      if (event.event === 'step') {
        const { type, ...rest } = event.step;
        ctx.out.print(JSON.stringify({ event: type, cycle: event.cycle, ...rest }));
      } else {
        ctx.out.print(JSON.stringify(event));
      }
    };
  }
  const time = (): string => new Date().toTimeString().slice(0, 8);
  // On a terminal, one line kept up to date: each image's state in the current cycle.
  const states = new Map<string, string>();
  const live = (): void => ctx.out.status([...states].map(([image, state]) => `${image}: ${state}`).join('  ·  '));
  return (event) => {
    track(states, event);
    if (ctx.out.live && o.progress !== 'quiet') live();
    switch (event.event) {
      case 'watching':
        if (o.progress !== 'quiet') ctx.out.note(`${time()} watching ${event.paths.length} path(s); Ctrl-C to stop`);
        break;
      case 'build-started':
        // A terminal shows it in the status line instead.
        if (o.progress !== 'quiet' && !ctx.out.live) ctx.out.note(`${time()} building ${event.images.join(', ')}…`);
        break;
      case 'build-finished': {
        const rebuilt = event.rebuilt.length > 0 ? `rebuilt ${event.rebuilt.join(', ')}` : 'all cached';
        let line = `${time()} ${event.image}  ok in ${event.durationMs} ms  ${event.digest.slice(0, 19)}  ${rebuilt}`;
        if (o.verbose) {
          const t = event.timings;
          line += `\n         event→start ${t.waitMs} ms · hash ${t.hashMs} ms · solve ${t.solveMs} ms · layers ${t.layerMs} ms · export ${t.exportMs} ms · restart ${t.restartMs} ms`;
        }
        ctx.out.print(line);
        break;
      }
      case 'build-failed':
        ctx.out.note(`${time()} ${event.image ?? 'build'}  failed: ${event.error}`);
        break;
      case 'build-cancelled':
        if (o.progress !== 'quiet') ctx.out.note(`${time()} build cancelled: ${event.reason}`);
        break;
      case 'config-error':
        ctx.out.note(`${time()} config error (keeping the last good build):\n${event.error}`);
        break;
      case 'config-reloaded':
        if (o.progress !== 'quiet') ctx.out.note(`${time()} config reloaded`);
        break;
      case 'change':
        if (o.progress === 'plain') ctx.out.note(`${time()} changed: ${event.paths.join(', ')}`);
        break;
      case 'step':
        renderStep(ctx, o.progress, event.step);
        break;
      case 'container-started':
        ctx.out.note(`${time()} ${event.image}  started ${event.digest.slice(0, 19)}`);
        break;
      case 'container-output':
        for (const line of event.text.replace(/\n$/, '').split('\n')) ctx.out.note(`[${event.image}] ${line}`);
        break;
      case 'container-exited':
        ctx.out.note(`${time()} ${event.image}  exited with code ${event.exitCode}`);
        break;
      case 'hook-output':
        for (const line of event.text.replace(/\n$/, '').split('\n')) ctx.out.note(`[on-build] ${line}`);
        break;
      case 'hook-exited':
        if (event.exitCode !== 0) ctx.out.note(`${time()} on-build command exited with code ${event.exitCode}`);
        break;
      case 'error':
        ctx.out.note(`${time()} error: ${event.error}`);
        break;
    }
  };
}

/** An image's state in the live status line, from the events that change it. */
function track(states: Map<string, string>, event: WatchEvent): void {
  switch (event.event) {
    case 'build-started':
      for (const image of event.images) states.set(image, 'building…');
      break;
    case 'step':
      if (event.step.type === 'step' && event.step.state === 'running') {
        states.set(event.step.image, `building ${event.step.stage} ${event.step.index}/${event.step.total}…`);
      }
      break;
    case 'build-finished':
      states.set(event.image, `ok in ${event.durationMs} ms`);
      break;
    case 'build-failed':
      for (const image of event.image ? [event.image] : states.keys()) states.set(image, 'failed');
      break;
    case 'build-cancelled':
      for (const image of states.keys()) states.set(image, 'restarting…');
      break;
    case 'config-error':
      for (const image of states.keys()) states.set(image, 'config error (last good build kept)');
      break;
  }
}

function renderStep(
  ctx: CommandContext,
  progress: WatchProgress,
  step: Extract<WatchEvent, { event: 'step' }>['step'],
) {
  if (progress !== 'plain') return;
  if (step.type === 'output') {
    for (const line of step.text.replace(/\n$/, '').split('\n'))
      ctx.out.note(`[${step.image}/${step.stage} ${step.index}] ${line}`);
  } else if (step.type === 'step' && (step.state === 'done' || step.state === 'failed')) {
    ctx.out.note(
      `[${step.image}/${step.stage} ${step.index}/${step.total}] ${step.state === 'failed' ? 'FAILED ' : ''}${step.text}`,
    );
  }
}
