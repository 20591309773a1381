/**
 * `drydock init`: the real CLI on copies of the preset examples and fixtures. Each written config
 * names the right preset, loads and compiles with drydock (`drydock graph`), is formatted as
 * prettier would and type-checks with tsc against the workspace's packages. Projects live under
 * test/.tmp, where `drydock` and the presets resolve as if installed; one lives outside the
 * repository, where they are not.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as prettier from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';
import { drydock, root, tempDir } from './helpers.js';

const CONFIG = 'images.config.ts';

/** A copy of a project without its config and emitted files, in a directory named `name`. */
function copyProject(from: string, name: string, base = tempDir()): string {
  const dir = join(base, name);
  cpSync(join(root, from), dir, {
    recursive: true,
    filter: (src) => !src.endsWith(`/${CONFIG}`) && !src.includes('/dockerfiles'),
  });
  return dir;
}

const examples = {
  node: { from: 'examples/preset-node', package: '@drydock/preset-node', call: 'node()' },
  python: { from: 'examples/preset-python', package: '@drydock/preset-python', call: 'python(' },
  go: { from: 'examples/preset-go', package: '@drydock/preset-go', call: 'go(' },
  static: { from: 'examples/preset-static', package: '@drydock/preset-static', call: 'staticSite()' },
} as const;

const written: string[] = [];
const outside: string[] = [];
afterAll(() => {
  for (const dir of outside) rmSync(dir, { recursive: true, force: true });
});

describe('drydock init', () => {
  for (const [name, example] of Object.entries(examples)) {
    it(`detects ${name} in ${example.from} and writes a config that compiles`, async () => {
      const dir = copyProject(example.from, `${name}-app`);
      const run = await drydock(['init'], { cwd: dir });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`wrote ${CONFIG}: image "${name}-app" from preset ${name} (${example.package})`);
      expect(run.stdout).toMatch(/\n {2}detected: .+\n/);
      expect(run.stdout).toContain('npx drydock build --load');

      const source = readFileSync(join(dir, CONFIG), 'utf8');
      expect(source).toContain(`import { defineConfig } from 'drydock';`);
      expect(source).toMatch(new RegExp(`import \\{ \\w+ \\} from '${example.package}';`));
      expect(source).toContain(`'${name}-app': ${example.call}`);
      written.push(join(dir, CONFIG));

      const graph = await drydock(['graph'], { cwd: dir });
      expect(graph.stderr).toBe('');
      expect(graph.code).toBe(0);
      expect(graph.stdout).toContain(`${name}-app`);
    });
  }

  it('writes files formatted as prettier formats them', async () => {
    expect(written.length).toBe(4);
    const options = (await prettier.resolveConfig(join(root, 'package.json'))) ?? {};
    for (const file of written) {
      const source = readFileSync(file, 'utf8');
      expect(await prettier.format(source, { ...options, parser: 'typescript' }), file).toBe(source);
    }
  });

  it('writes files that type-check against the installed packages (tsc --noEmit)', async () => {
    expect(written.length).toBe(4);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler'];
    const result = await promisify(execFile)(process.execPath, [tsc, ...flags, ...written], { cwd: root }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);

  it('says which other presets fit and which one won by priority', async () => {
    const dir = copyProject('examples/preset-static', 'site');
    const run = await drydock(['init'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('from preset static');
    expect(run.stdout).toContain('also fits: node: package.json');
    expect(run.stdout).toContain('priority: go > python > static > node');
  });

  it('--preset overrides detection', async () => {
    // A Node app with a requirements.txt for its scripts: python comes first by priority.
    const dir = copyProject('examples/preset-node', 'api');
    writeFileSync(join(dir, 'requirements.txt'), 'requests\n');
    const detected = await drydock(['init', '-c', 'detected.config.ts'], { cwd: dir });
    expect(detected.stdout).toContain('from preset python');
    expect(detected.stdout).toContain('also fits: node: package.json');

    const run = await drydock(['init', '--preset', 'node'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('from preset node (@drydock/preset-node)');
    expect(run.stdout).toContain('chosen with --preset node');
    const source = readFileSync(join(dir, CONFIG), 'utf8');
    expect(source).toContain(`import { node } from '@drydock/preset-node';`);
    expect(source).not.toContain('preset-python');
    const graph = await drydock(['graph'], { cwd: dir });
    expect(graph.stderr).toBe('');
    expect(graph.code).toBe(0);
  });

  it('--preset a preset that does not recognize the project: written, with a note and what is missing', async () => {
    const dir = copyProject('examples/preset-node', 'api');
    const run = await drydock(['init', '--preset', 'go'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(readFileSync(join(dir, CONFIG), 'utf8')).toContain(`from '@drydock/preset-go'`);
    expect(run.stderr).toContain('note: preset go does not recognize');
    expect(run.stderr).toMatch(/warning: preset go: .*has no go\.mod/);
  });

  it('a detected project the preset cannot image without an option: written, with a warning naming it', async () => {
    const dir = copyProject('test/presets/fixtures/go/two-commands', 'workers');
    const run = await drydock(['init'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('from preset go');
    expect(run.stderr).toMatch(/^drydock: warning: preset go: no single main package .*set option "main"/m);
  });

  it('refuses to replace an existing config without --force, with one line', async () => {
    const dir = copyProject('examples/preset-go', 'svc');
    expect((await drydock(['init'], { cwd: dir })).code).toBe(0);
    const first = readFileSync(join(dir, CONFIG), 'utf8');

    const again = await drydock(['init', '--name', 'other'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe(`drydock: error: ${CONFIG} already exists; drydock init --force replaces it\n`);
    expect(readFileSync(join(dir, CONFIG), 'utf8')).toBe(first);

    const forced = await drydock(['init', '--name', 'other', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, CONFIG), 'utf8')).toContain('other: go(');
  });

  it('refuses when another config file (images.config.mjs) is there', async () => {
    const dir = copyProject('examples/preset-go', 'svc');
    writeFileSync(join(dir, 'images.config.mjs'), 'export default {};\n');
    const run = await drydock(['init'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^drydock: error: images\.config\.mjs already exists; .*--force/);
    expect(existsSync(join(dir, CONFIG))).toBe(false);
  });

  it('nothing detected: exit 1, one line listing the --preset choices, nothing written', async () => {
    const dir = join(tempDir(), 'notes');
    mkdirSync(dir);
    writeFileSync(join(dir, 'README.md'), '# notes\n');
    const run = await drydock(['init'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^drydock: error: no preset fits \. .*choose one: drydock init --preset go\|python\|static\|node\n$/,
    );
    expect(existsSync(join(dir, CONFIG))).toBe(false);
  });

  it('an unreadable package.json is named in the one-line error', async () => {
    const dir = join(tempDir(), 'broken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), '{ "name": ');
    const run = await drydock(['init'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^drydock: error: no preset fits .*package\.json .*is not valid JSON/);
  });

  it('-c DIR writes there; the commands it suggests name the directory', async () => {
    const base = tempDir();
    copyProject('examples/preset-python', 'My Service', base);
    const run = await drydock(['init', '-c', 'My Service'], { cwd: base });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`wrote My Service/${CONFIG}: image "my-service"`);
    expect(run.stdout).toContain('npx drydock build -c My Service --load');
    expect((await drydock(['graph', '-c', 'My Service'], { cwd: base })).code).toBe(0);
  });

  it('-c FILE.ts writes that file', async () => {
    const dir = copyProject('examples/preset-go', 'svc');
    const run = await drydock(['init', '-c', 'deploy.config.ts'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(existsSync(join(dir, 'deploy.config.ts'))).toBe(true);
    expect(existsSync(join(dir, CONFIG))).toBe(false);
    expect(run.stdout).toContain('npx drydock graph -c deploy.config.ts');
    expect((await drydock(['graph', '-c', 'deploy.config.ts'], { cwd: dir })).code).toBe(0);
  });

  it('outside a project that has drydock installed: says what to install, with its package manager', async () => {
    const base = mkdtempSync(join(tmpdir(), 'drydock-init-'));
    outside.push(base);
    const go = copyProject('examples/preset-go', 'svc', base);
    const run = await drydock(['init'], { cwd: go });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\n  npm i -D drydock @drydock/preset-go\n');

    const pnpm = copyProject('test/presets/fixtures/static/vite-app', 'web', base);
    const site = await drydock(['init'], { cwd: pnpm });
    expect(site.code).toBe(0);
    expect(site.stdout).toContain('\n  pnpm add -D drydock @drydock/preset-static\n');
  });

  it('inside a project that has them: no install line', async () => {
    const dir = copyProject('examples/preset-go', 'svc');
    const run = await drydock(['init'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`wrote ${CONFIG}: image "svc" from preset go (@drydock/preset-go)`);
    expect(run.stdout).toContain('\nnext:\n  npx drydock graph ');
    expect(run.stdout).not.toMatch(/npm i -D|pnpm add/);
  });

  it('usage errors: an unknown preset, an invalid image name, an argument (exit 2)', async () => {
    const dir = copyProject('examples/preset-go', 'svc');
    const unknown = await drydock(['init', '--preset', 'ruby'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'drydock: --preset ruby: not a preset (presets: go, python, static, node) (see drydock init --help)\n',
    );
    const name = await drydock(['init', '--name', 'My App'], { cwd: dir });
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('--name My App: image names are lowercase');
    expect((await drydock(['init', 'x'], { cwd: dir })).code).toBe(2);
    expect(existsSync(join(dir, CONFIG))).toBe(false);
  });
});
