// loadConfig against real fixture folders: file lookup, the four config formats, local
// dependencies, and the coded errors DD100 (not found), DD101 (failed to load), DD102 (not a config).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CONFIG_NAMES, findConfig, loadConfig } from '@drydock/core';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, fixtures, lineOf, rejection, singleStageOf, stagesOf } from './helpers.js';

const tmpRoot = fileURLToPath(new URL('../.tmp/', import.meta.url));
const tmpDirs: string[] = [];
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

/** A scratch directory inside the repo, so configs in it resolve `drydock` from node_modules. */
function scratch(): string {
  mkdirSync(tmpRoot, { recursive: true });
  const dir = mkdtempSync(path.join(tmpRoot, 'config-'));
  tmpDirs.push(dir);
  return dir;
}

describe('finding the config', () => {
  it('takes a directory and finds images.config.ts in it', async () => {
    const loaded = await loadConfig(fixture('basic'));
    expect(loaded.file).toBe(fixture('basic', 'images.config.ts'));
    expect(loaded.dir).toBe(fixture('basic'));
  });

  it('takes a file, relative to options.cwd', async () => {
    const loaded = await loadConfig('mjs/images.config.mjs', { cwd: fixtures });
    expect(loaded.file).toBe(fixture('mjs', 'images.config.mjs'));
    expect(Object.keys(loaded.config.images)).toEqual(['mjs']);
  });

  it('looks for .ts, .mts, .js, .mjs in that order', async () => {
    expect(CONFIG_NAMES).toEqual(['images.config.ts', 'images.config.mts', 'images.config.js', 'images.config.mjs']);
    expect(Object.keys((await loadConfig(fixture('order'))).config.images)).toEqual(['from_ts']);
    expect(await findConfig(fixture('order-js'))).toBe(fixture('order-js', 'images.config.js'));
  });

  it('DD100 when the directory has no config, naming the directory and the names looked for', async () => {
    const [d, ...rest] = await rejection(loadConfig(fixture('no-config')));
    expect(rest).toEqual([]);
    expect(d!.code).toBe('DD100');
    expect(d!.message).toContain(fixture('no-config'));
    for (const name of CONFIG_NAMES) expect(d!.message).toContain(name);
  });

  it('DD100 when the path does not exist', async () => {
    const [d] = await rejection(loadConfig('no-such-dir/images.config.ts', { cwd: fixtures }));
    expect(d!.code).toBe('DD100');
    expect(d!.message).toContain(fixture('no-such-dir', 'images.config.ts'));
  });
});

describe('config formats', () => {
  it('loads TypeScript importing local TypeScript modules by their .js names', async () => {
    const { config } = await loadConfig(fixture('basic'));
    const steps = stagesOf(config, 'app').build!.steps!;
    expect(steps.map((s) => (s.op === 'run' ? s.command : s.op))).toEqual(['echo basic', 'copy', 'echo hello world']);
  });

  it('loads .mts importing an .mts helper by its .mjs name', async () => {
    const { config, dependencies } = await loadConfig(fixture('mts'));
    expect(config.images.mts).toMatchObject({
      stage: { from: 'busybox:1.36', steps: [{ op: 'run', command: 'echo mts' }] },
    });
    expect(dependencies).toEqual([fixture('mts', 'images.config.mts'), fixture('mts', 'helper.mts')]);
  });

  it('loads .js with ES module syntax in a "type": "module" package', async () => {
    const { config, dependencies } = await loadConfig(fixture('js'));
    expect(config.images.js).toMatchObject({ stage: { from: 'busybox:1.36', steps: [{ command: 'echo js' }] } });
    expect(dependencies).toEqual([fixture('js', 'images.config.js'), fixture('js', 'helper.js')]);
  });

  it('gives configs import.meta.url, .dirname and .filename', async () => {
    const { config, file, dir } = await loadConfig(fixture('meta'));
    const description = (config.images.meta as { description: string }).description;
    expect(JSON.parse(description)).toEqual([pathToFileURL(file).href, dir, file]);
  });

  it('loads .mjs', async () => {
    const { config } = await loadConfig(fixture('mjs'));
    expect(config.images.mjs).toMatchObject({ stage: { steps: [{ command: 'echo mjs' }] } });
  });
});

describe('dependencies', () => {
  it('lists the config and every local module it imports, transitively, but no package', async () => {
    const { dependencies } = await loadConfig(fixture('basic'));
    expect(dependencies).toEqual([
      fixture('basic', 'images.config.ts'),
      fixture('basic', 'lib', 'steps.ts'),
      fixture('basic', 'lib', 'prefix.ts'),
    ]);
  });

  it('leaves none of them in require.cache', async () => {
    const { dependencies } = await loadConfig(fixture('basic'));
    const cache = createRequire(import.meta.url).cache;
    for (const file of dependencies) expect(cache[file], file).toBeUndefined();
  });
});

describe('DD101: the config fails to load', () => {
  it('a syntax error, located by esbuild', async () => {
    // Written at run time: a committed file with a syntax error would break lint and typecheck.
    const dir = scratch();
    const file = path.join(dir, 'images.config.ts');
    writeFileSync(
      file,
      [
        "import { defineConfig } from 'drydock';",
        '',
        'export default defineConfig({',
        "  images: { app: { stage: { from: 'busybox:1.36' } } ",
        '  oops: )',
        '});',
        '',
      ].join('\n'),
    );
    const [d, ...rest] = await rejection(loadConfig(dir));
    expect(rest).toEqual([]);
    expect(d!.code).toBe('DD101');
    expect(d!.loc).toMatchObject({ file, line: 5 });
    expect(d!.message).toContain('images.config.ts:5');
    expect(d!.message).not.toContain('\n');
  });

  it('an exception while evaluating, located at the .ts line that threw', async () => {
    const file = fixture('throws', 'images.config.ts');
    const [d] = await rejection(loadConfig(file));
    expect(d!.code).toBe('DD101');
    expect(d!.loc).toMatchObject({ file, line: lineOf(file, "throw new Error('DRYDOCK_TEST_NO_SUCH_VAR") });
    expect(d!.message).toContain('DRYDOCK_TEST_NO_SUCH_VAR must be set');
    expect(d!.message).not.toContain('\n');
  });

  it('an exception in a local helper, located in the helper', async () => {
    const helper = fixture('throws-in-helper', 'helper.ts');
    const [d] = await rejection(loadConfig(fixture('throws-in-helper')));
    expect(d!.code).toBe('DD101');
    expect(d!.loc).toMatchObject({ file: helper, line: lineOf(helper, 'throw new RangeError') });
    expect(d!.message).toContain('RangeError');
  });

  it('a missing local module, located at the import', async () => {
    const file = fixture('missing-import', 'images.config.ts');
    const [d] = await rejection(loadConfig(file));
    expect(d!.code).toBe('DD101');
    expect(d!.loc).toMatchObject({ file, line: lineOf(file, "from './no-such-module.js'") });
    expect(d!.message).toContain('./no-such-module.js');
    expect(d!.message).not.toContain('\n');
    expect(d!.hint).toBeDefined();
  });
});

describe('problems the config reports itself', () => {
  it('a DiagnosticError thrown while evaluating keeps its own diagnostics', async () => {
    // The config's DiagnosticError comes from the built library, not the copy these tests import.
    const [d, ...rest] = await rejection(loadConfig(fixture('throws-diagnostic')));
    expect(rest).toEqual([]);
    expect(d!.code).toBe('DD133');
  });
});

describe('DD102: not a config', () => {
  it('no default export', async () => {
    const file = fixture('no-default', 'images.config.ts');
    const [d] = await rejection(loadConfig(file));
    expect(d!.code).toBe('DD102');
    expect(d!.loc).toEqual({ file, line: 1, column: 1 });
  });

  it('a default export without `images`, located at the export', async () => {
    const file = fixture('not-config', 'images.config.ts');
    const [d] = await rejection(loadConfig(file));
    expect(d!.code).toBe('DD102');
    expect(d!.loc).toMatchObject({ file, line: lineOf(file, 'export default') });
  });
});

describe('loading again in one process (watch mode)', () => {
  it('sees edits to the config and to its helper', async () => {
    const dir = scratch();
    const file = path.join(dir, 'images.config.ts');
    const helper = path.join(dir, 'helper.ts');
    const config = (image: string, padding: number) =>
      [
        "import { defineConfig, run } from 'drydock';",
        "import { tag } from './helper.js';",
        ...Array<string>(padding).fill('// padding'),
        'export default defineConfig({',
        `  images: { ${image}: { stage: { from: \`busybox:\${tag}\`, steps: [run('echo ${image}')] } } },`,
        '});',
        '',
      ].join('\n');
    writeFileSync(file, config('first', 0));
    writeFileSync(helper, "export const tag = '1.36';\n");

    const first = await loadConfig(dir);
    expect(first.config.images).toMatchObject({ first: { stage: { from: 'busybox:1.36' } } });
    expect(first.dependencies).toEqual([file, helper]);

    writeFileSync(file, config('second', 3));
    writeFileSync(helper, "export const tag = '1.37';\n");
    const second = await loadConfig(dir);
    expect(Object.keys(second.config.images)).toEqual(['second']);
    const stage = singleStageOf(second.config, 'second');
    expect(stage.from).toBe('busybox:1.37');
    // The source map of the new text is used, not the first one's.
    expect(stage.steps![0]!.loc).toMatchObject({ file, line: lineOf(file, "run('echo second')") });

    writeFileSync(helper, 'export const tag = ;\n');
    const [d] = await rejection(loadConfig(dir));
    expect(d!.code).toBe('DD101');
    expect(d!.loc).toMatchObject({ file: helper, line: 1 });

    writeFileSync(helper, "export const tag = '1.38';\n");
    const fixed = await loadConfig(dir);
    expect(fixed.config.images.second).toMatchObject({ stage: { from: 'busybox:1.38' } });
  });

  // .js here is ES module syntax (the repo's package.json has "type": "module"); ESM loaded
  // natively could never be loaded afresh, so this proves every format goes through the hook.
  it.each([
    ['mts', 'helper.mts', './helper.mjs'],
    ['js', 'helper.js', './helper.js'],
    ['mjs', 'helper.mjs', './helper.mjs'],
  ])('sees edits to an .%s config and its helper', async (ext, helperName, specifier) => {
    const dir = scratch();
    const file = path.join(dir, `images.config.${ext}`);
    const helper = path.join(dir, helperName);
    const write = (image: string, tag: string) => {
      writeFileSync(helper, `export const tag = '${tag}';\n`);
      writeFileSync(
        file,
        [
          "import { defineConfig } from 'drydock';",
          `import { tag } from '${specifier}';`,
          `export default defineConfig({ images: { ${image}: { stage: { from: \`busybox:\${tag}\` } } } });`,
          '',
        ].join('\n'),
      );
    };
    write('first', '1.36');
    const first = await loadConfig(dir);
    expect(first.config.images).toEqual({ first: { stage: { from: 'busybox:1.36' } } });
    expect(first.dependencies).toEqual([file, helper]);
    write('second', '1.37');
    expect((await loadConfig(dir)).config.images).toEqual({ second: { stage: { from: 'busybox:1.37' } } });
  });
});
