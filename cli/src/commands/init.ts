import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CONFIG_NAMES, projectFiles, type ProjectFiles } from '@drydock/core';
import { flag, stringOption, type Command, type CommandContext } from '../context.js';
import {
  PRESETS,
  PRESET_NAMES,
  detect,
  loadPreset,
  resolveFrom,
  tryStages,
  type LoadedPreset,
  type PresetEntry,
} from '../init/presets.js';
import { configSource } from '../init/source.js';
import { UsageError } from '../usage.js';

/** What `images` accepts as a name (core's compile checks the same). */
const IMAGE_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * `drydock init [--preset NAME] [--name IMAGE] [--force]`: writes `images.config.ts` for the
 * project in the current directory (or -c DIR) with the preset that fits it, then says what it
 * found and what to run next.
 */
export const init: Command = async (ctx) => {
  const { dir, file } = target(ctx);
  const chosen = presetOption(ctx);
  const image = imageName(ctx, dir);
  const force = flag(ctx, 'force');
  const existing = existingConfigs(dir, file);
  if (existing.includes(file) && !force) {
    return fail(ctx, `${ctx.out.relative(file)} already exists; drydock init --force replaces it`);
  }
  const others = existing.filter((f) => f !== file);
  if (others.length > 0 && !force) {
    return fail(
      ctx,
      `${ctx.out.relative(others[0]!)} already exists; drydock init --force writes ${basename(file)} beside it`,
    );
  }

  const project = projectFiles(dir);
  const choice = await choose(ctx, chosen, dir, project);
  if ('error' in choice) return fail(ctx, choice.error);
  const { loaded, detected, alsoFits } = choice;
  const { preset, entry } = loaded;
  const source = await configSource({
    image,
    package: preset?.package ?? entry.package,
    importName: preset?.importName ?? entry.importName,
    ...(ignoresNodeModules(loaded) ? {} : { ignore: ['node_modules'] }),
    comment: comment(loaded, basename(dir), detected),
  });
  try {
    await writeFile(file, source, { flag: force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return fail(ctx, `${ctx.out.relative(file)} already exists; drydock init --force replaces it`);
  }

  report(ctx, { dir, file, image, loaded, detected, alsoFits });
  if (preset) {
    const problem = tryStages(preset, project);
    if (problem) ctx.out.note(`drydock: warning: ${problem} (edit ${ctx.out.relative(file)})`);
  }
  if (others.length > 0) {
    const first = CONFIG_NAMES.map((name) => join(dir, name)).find((f) => existsSync(f))!;
    ctx.out.note(
      first === file
        ? `drydock: note: drydock reads ${basename(file)}, not ${others.map((f) => basename(f)).join(', ')}`
        : `drydock: warning: drydock reads ${basename(first)} first: remove it, or pass -c ${ctx.out.relative(file)}`,
    );
  }
  return 0;
};

interface Choice {
  loaded: LoadedPreset;
  /** Why the preset fits, when it was detected rather than chosen with --preset. */
  detected?: string;
  /** The other presets that fit, each with its reason. */
  alsoFits: string[];
}

/** The preset --preset names, or the first in priority order that recognizes the project. */
async function choose(
  ctx: CommandContext,
  chosen: PresetEntry | undefined,
  dir: string,
  project: ProjectFiles,
): Promise<Choice | { error: string }> {
  if (chosen) {
    const loaded = await loadPreset(chosen, dir);
    // Installed but unusable (it fails to load, or exports no preset): the config is written all
    // the same, but say why the preset could not be asked.
    if (loaded.problem && loaded.problem !== 'not installed') {
      ctx.out.note(`drydock: warning: ${chosen.package}: ${loaded.problem}`);
    }
    if (loaded.preset && !safeDetect(loaded, project)) {
      ctx.out.note(
        `drydock: note: preset ${chosen.name} does not recognize ${ctx.out.relative(dir)} as its kind of project`,
      );
    }
    return { loaded, alsoFits: [] };
  }
  const all = await Promise.all(PRESETS.map((entry) => loadPreset(entry, dir)));
  const asked = all.filter((p) => p.preset).map((p) => p.entry.name);
  const notInstalled = all.filter((p) => p.problem === 'not installed').map((p) => p.entry.package);
  const notAsked = [
    ...(notInstalled.length > 0 ? [`not installed: ${notInstalled.join(', ')}`] : []),
    ...all.flatMap((p) => (p.problem && p.problem !== 'not installed' ? [`${p.entry.package}: ${p.problem}`] : [])),
  ].join('; ');
  const { matches, errors } = detect(all, project);
  const [first, ...rest] = matches;
  if (!first) {
    const nobody =
      asked.length === 1 ? `${asked[0]} does not recognize it` : `none of ${asked.join(', ')} recognizes it`;
    const why = [errors.length > 0 ? errors.join('; ') : nobody, ...(notAsked ? [notAsked] : [])].join('; ');
    return {
      error: `no preset fits ${ctx.out.relative(dir)} (${why}); choose one: drydock init --preset ${PRESET_NAMES.join('|')}`,
    };
  }
  if (notAsked) ctx.out.note(`drydock: note: ${notAsked}`);
  return {
    loaded: first.loaded,
    detected: first.match.reason,
    alsoFits: rest.map((m) => `${m.loaded.entry.name}: ${m.match.reason}`),
  };
}

/** Where to write: images.config.ts in the current directory, in -c DIR, or the .ts file -c names. */
function target(ctx: CommandContext): { dir: string; file: string } {
  const option = stringOption(ctx, 'config');
  const path = resolve(ctx.cwd, option ?? '.');
  if (isDirectory(path)) return { dir: path, file: join(path, CONFIG_NAMES[0]) };
  if (/\.m?ts$/.test(path) && isDirectory(dirname(path))) return { dir: dirname(path), file: path };
  throw new UsageError(`-c ${option}: not a directory, nor a .ts file in one`, 'init');
}

function presetOption(ctx: CommandContext): PresetEntry | undefined {
  const name = stringOption(ctx, 'preset');
  if (name === undefined) return undefined;
  const entry = PRESETS.find((p) => p.name === name);
  if (!entry) throw new UsageError(`--preset ${name}: not a preset (presets: ${PRESET_NAMES.join(', ')})`, 'init');
  return entry;
}

/** --name, or the directory's name made into an image name (`My App` → `my-app`). */
function imageName(ctx: CommandContext, dir: string): string {
  const name = stringOption(ctx, 'name');
  if (name !== undefined) {
    if (!IMAGE_NAME.test(name)) {
      throw new UsageError(
        `--name ${name}: image names are lowercase letters, digits, '.', '_' and '-', starting with a letter or digit`,
        'init',
      );
    }
    return name;
  }
  const fromDir = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return fromDir === '' ? 'app' : fromDir;
}

/**
 * The file itself if it exists, and when it has one of the names the loader looks for, every
 * other such config in the directory (the loader reads only the first of them).
 */
function existingConfigs(dir: string, file: string): string[] {
  const named = (CONFIG_NAMES as readonly string[]).includes(basename(file));
  const found = named ? CONFIG_NAMES.map((name) => join(dir, name)).filter((f) => existsSync(f)) : [];
  return existsSync(file) && !found.includes(file) ? [file, ...found] : found;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function safeDetect(loaded: LoadedPreset, project: ProjectFiles): boolean {
  try {
    return loaded.preset?.detect(project) !== undefined;
  } catch {
    return false;
  }
}

/**
 * Installing drydock into a project puts node_modules in its context: the node and static presets
 * ignore it, a preset that copies the whole project must be told to.
 */
function ignoresNodeModules(loaded: LoadedPreset): boolean {
  return loaded.preset?.ignore.some((p) => /(^|\/)node_modules\/?$/.test(p)) ?? false;
}

function comment(loaded: LoadedPreset, dirName: string, detected: string | undefined): string[] {
  const { preset, entry } = loaded;
  const call = `${preset?.importName ?? entry.importName}()`;
  const lines = wrap(
    `${dirName}'s image, made by ${preset?.package ?? entry.package}. Written by drydock init` +
      (detected ? `, which found ${detected}.` : '.'),
  );
  if (preset) {
    lines.push(
      '',
      ...wrap(
        `${call} takes typed options: ${preset.optionNames.join(', ')}; and steps, before, after and ` +
          `override to replace, surround or remove any of its steps (${preset.stepNames.join(', ')}).`,
      ),
    );
  }
  lines.push('', '`drydock graph` shows the steps it makes; `drydock emit` writes them as a Dockerfile.');
  return lines;
}

/** Words into lines of at most `width` characters. */
function wrap(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

interface Written {
  dir: string;
  file: string;
  image: string;
  loaded: LoadedPreset;
  detected: string | undefined;
  alsoFits: string[];
}

/** What was written, why, and the commands to run next: on stdout. */
function report(ctx: CommandContext, w: Written): void {
  const { entry, preset, installed } = w.loaded;
  const pkg = preset?.package ?? entry.package;
  const out = ctx.out;
  out.print(`wrote ${out.relative(w.file)}: image "${w.image}" from preset ${entry.name} (${pkg})`);
  out.print(w.detected ? `  detected: ${w.detected}` : `  chosen with --preset ${entry.name}`);
  for (const other of w.alsoFits) out.print(`  also fits: ${other}`);
  if (w.alsoFits.length > 0) {
    out.print(`  (priority: ${PRESET_NAMES.join(' > ')}; drydock init --preset NAME --force picks another)`);
  }
  const missing = [...(resolveFrom(w.dir, 'drydock') ? [] : ['drydock']), ...(installed ? [] : [pkg])];
  const rel = out.relative(w.dir);
  const config =
    w.file !== join(w.dir, CONFIG_NAMES[0]) ? ` -c ${out.relative(w.file)}` : rel === '.' ? '' : ` -c ${rel}`;
  const next: [string, string][] = [
    [`npx drydock graph${config}`, 'the steps the preset makes'],
    [`npx drydock build${config} --load`, 'build the image natively and load it into docker'],
    [`npx drydock emit${config}`, 'or write its Dockerfile, for any BuildKit'],
  ];
  const width = Math.max(...next.map(([command]) => command.length)) + 3;
  out.print('next:');
  if (missing.length > 0) {
    out.print(`  ${installCommand(w.dir)} ${missing.join(' ')}${rel === '.' ? '' : `   (in ${rel})`}`);
  }
  for (const [command, what] of next) out.print(`  ${command.padEnd(width)}${what}`);
}

/** The project's package manager's command to add dev dependencies, from its lockfile. */
function installCommand(dir: string): string {
  if (existsSync(join(dir, 'pnpm-lock.yaml'))) return 'pnpm add -D';
  if (existsSync(join(dir, 'yarn.lock'))) return 'yarn add -D';
  if (existsSync(join(dir, 'bun.lock')) || existsSync(join(dir, 'bun.lockb'))) return 'bun add -d';
  return 'npm i -D';
}

/** A user error: one line on stderr, exit status 1. */
function fail(ctx: CommandContext, message: string): number {
  ctx.out.note(`drydock: error: ${message}`);
  return 1;
}
