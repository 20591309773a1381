/** `drydock graph`: every format from the built CLI, on a real project. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Graph } from '@drydock/core';
import { drydock, fixtures } from './helpers.js';

const basic = join(fixtures, 'basic');

async function graph(...args: string[]): Promise<string> {
  const run = await drydock(['graph', '-c', basic, ...args]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout;
}

describe.concurrent('drydock graph', () => {
  it('prints text by default: each image, its stages in build order, one line per node', async () => {
    const text = await graph();
    expect(text).toBe(await graph('--format', 'text'));
    expect(text).toMatch(/^image api {2}target runtime {2}digest [0-9a-f]{12}$/m);
    expect(text).toMatch(/^image web {2}target web {2}digest [0-9a-f]{12}$/m);
    const stages = [...text.matchAll(/^ {2}stage (\S+)/gm)].map((m) => m[1]);
    expect(stages).toEqual(['deps', 'build', 'runtime', 'web']); // `unused` is pruned
    expect(text).toMatch(/^ {2}stage build {2}needs deps$/m);
    expect(text).toMatch(/^ {4}[0-9a-f]{12} {2}FROM node:\$\{NODE_VERSION\}-slim AS deps {2}\[args: NODE_VERSION\]$/m);
    expect(text).toMatch(/^ {4}[0-9a-f]{12} {2}COPY --from=build \/app\/dist \.\/dist$/m);
    expect(text).toMatch(/^ {4}[0-9a-f]{12} {2}ENV PORT=\$\{PORT\} REGION=\$\{REGION\} {2}\[args: PORT, REGION\]$/m);
  });

  it('json is the compiled graph, filtered to the images asked for', async () => {
    const all = JSON.parse(await graph('--format', 'json')) as Graph;
    expect(all.images.map((i) => i.name)).toEqual(['api', 'web']);
    expect(all.args.map((a) => a.name)).toEqual(['NODE_VERSION', 'PORT', 'REGION', 'DEBUG']);
    const web = JSON.parse(await graph('web', '-f', 'json')) as Graph;
    expect(web).toEqual({ ...all, images: [all.images[1]] });
  });

  it('IMAGE arguments select images in every format', async () => {
    const text = await graph('api');
    expect(text).toContain('image api');
    expect(text).not.toContain('image web');
    expect(await graph('-f', 'dot', 'web')).not.toContain('image api');
    expect(await graph('-f', 'mermaid', 'web')).not.toContain('image api');
  });

  it('dot is valid Graphviz (checked by dot itself)', async () => {
    const dot = await graph('--format', 'dot');
    expect(dot).toMatch(/^digraph drydock \{\n/);
    expect(dot).toContain('subgraph cluster_');
    let svg: string;
    try {
      svg = execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    } catch (err) {
      throw new Error(
        `dot -Tsvg rejected the output (is graphviz installed? apt-get install graphviz): ${String(err)}`,
      );
    }
    expect(svg).toContain('<svg');
    expect(svg).toContain('from=build /app/dist'); // dot escapes the dashes of --from
  });

  it('mermaid is a flowchart with a subgraph per image and stage', async () => {
    const mermaid = await graph('--format', 'mermaid');
    expect(mermaid.split('\n')[0]).toBe('flowchart TD');
    expect(mermaid).toMatch(/subgraph c\d+\["image api"\]/);
    expect(mermaid).toMatch(/subgraph c\d+\["stage runtime"\]/);
    expect(mermaid).toMatch(/n\d+ -\.->\|copy\| n\d+/);
  });

  it('is deterministic', async () => {
    for (const format of ['text', 'dot', 'mermaid', 'json']) {
      expect(await graph('-f', format)).toBe(await graph('-f', format));
    }
  });

  it('runs from inside the project without -c', async () => {
    const run = await drydock(['graph', '-f', 'json'], { cwd: basic });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(await graph('-f', 'json'));
  });
});

describe('a config outside any node_modules that has drydock', () => {
  it('imports the drydock that is loading it (global installs, container images)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drydock-outside-'));
    try {
      writeFileSync(
        join(dir, 'images.config.ts'),
        "import { defineConfig, run } from 'drydock';\n" +
          "export default defineConfig({ images: { solo: { stage: { from: 'busybox:1.35', steps: [run('true')] } } } });\n",
      );
      const r = await drydock(['graph', '-c', dir]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('image solo');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
