/**
 * `projectFiles(dir)`: the read-only view of a build context that stage functions and presets get
 * as `ctx.project`, and that `drydock init` detects presets with. It reads, never writes, and
 * never leaves its directory; through `loadProject` it sees each image's context, and what it was
 * asked about becomes part of the project's dependencies (watch mode reloads the config on a change).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject, projectFiles } from '@drydock/core';

let root: string;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'drydock-project-files-'));
  dir = join(root, 'app');
  await mkdir(join(dir, 'src', 'lib'), { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "name": "app", "scripts": { "build": "tsc" } }\n');
  await writeFile(join(dir, 'broken.json'), '{ "name": ');
  await writeFile(join(dir, 'src', 'index.js'), 'console.log(1)\n');
  await writeFile(join(root, 'secret.txt'), 'outside\n');
  await symlink('../secret.txt', join(dir, 'escape.txt'));
  await symlink('src', join(dir, 'source'));
});

afterAll(() => rm(root, { recursive: true, force: true }));

describe('projectFiles', () => {
  it('reads text and JSON by path relative to its directory; absent files are undefined', () => {
    const p = projectFiles(dir);
    expect(p.dir).toBe(dir);
    expect(p.readText('src/index.js')).toBe('console.log(1)\n');
    expect(p.readText('./src/../src/index.js')).toBe('console.log(1)\n');
    expect(p.readJson('package.json')).toEqual({ name: 'app', scripts: { build: 'tsc' } });
    expect(p.readText('missing.txt')).toBeUndefined();
    expect(p.readJson('missing.json')).toBeUndefined();
    expect(p.readText('src')).toBeUndefined(); // a directory is not a file
  });

  it('says what exists, files and directories alike', () => {
    const p = projectFiles(dir);
    expect([p.exists('package.json'), p.exists('src'), p.exists('src/lib'), p.exists('nope')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('lists a directory sorted, directories (and links to them) ending with /, [] when missing', () => {
    const p = projectFiles(dir);
    expect(p.list()).toEqual(['broken.json', 'escape.txt', 'package.json', 'source/', 'src/']);
    expect(p.list('src')).toEqual(['index.js', 'lib/']);
    expect(p.list('source')).toEqual(['index.js', 'lib/']);
    expect(p.list('nope')).toEqual([]);
  });

  it('names the file when JSON does not parse', () => {
    expect(() => projectFiles(dir).readJson('broken.json')).toThrow(`broken.json in ${dir} is not valid JSON:`);
  });

  it('refuses paths that leave the directory: .., absolute, or a symlink pointing out', () => {
    const p = projectFiles(dir);
    expect(() => p.readText('../secret.txt')).toThrow(`readText("../secret.txt"): the path leaves the context ${dir}`);
    expect(() => p.exists('src/../../secret.txt')).toThrow('the path leaves the context');
    expect(() => p.readText('/etc/passwd')).toThrow(
      `readText("/etc/passwd"): project paths are relative to the context ${dir}`,
    );
    expect(() => p.readText('escape.txt')).toThrow(
      `readText("escape.txt"): the path leads outside the context ${dir} (to ${join(root, 'secret.txt')})`,
    );
  });

  it('remembers which files it was asked about, present or not, but not directories', () => {
    const p = projectFiles(dir);
    p.readJson('package.json');
    p.exists('pnpm-lock.yaml');
    p.exists('src');
    p.list('src');
    expect([...p.touched].sort()).toEqual([join(dir, 'package.json'), join(dir, 'pnpm-lock.yaml')]);
  });

  it('has no way to write', () => {
    expect(Object.keys(projectFiles(dir)).sort()).toEqual(['dir', 'exists', 'list', 'readJson', 'readText', 'touched']);
  });
});

describe('ctx.project in a loaded config', () => {
  it('is the image’s context, and what was read is a dependency of the project', async () => {
    const config = join(root, 'images.config.ts');
    await writeFile(
      config,
      [
        "import { defineConfig, run } from 'drydock';",
        'export default defineConfig({',
        '  images: {',
        '    app: {',
        "      context: 'app',",
        '      stage: ({ project }) => {',
        "        const pkg = project.readJson('package.json') as { scripts?: Record<string, string> };",
        "        const lock = project.exists('package-lock.json');",
        "        return { from: 'busybox:1.35', steps: [run(`echo build=${pkg.scripts?.build} lock=${lock}`)] };",
        '      },',
        '    },',
        '  },',
        '});',
        '',
      ].join('\n'),
    );
    await symlink(join(process.cwd(), 'node_modules'), join(root, 'node_modules'));
    const project = await loadProject({ cwd: root });
    const node = project.graph.images[0]!.stages[0]!.nodes[0]!;
    expect(node.op === 'run' && node.command).toEqual({ shell: 'echo build=tsc lock=false' });
    expect(project.dependencies).toEqual([
      config,
      join(root, 'app', 'package.json'),
      join(root, 'app', 'package-lock.json'),
    ]);
  });
});
