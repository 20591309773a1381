/** renderGraph, in-process: snapshots of every format on a compiled fixture and on every op. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compile, renderGraph, type AnyConfig, type Diagnostic, type Graph, type GraphFormat } from '@drydock/core';
import typedConfig from './fixtures/basic/images.config.js';
import { everyOpGraph } from './every-op.graph.js';

// Erased as the loader erases it: a typed config's stage function wants its own arg names.
const config = typedConfig as unknown as AnyConfig;

function compiled(args: Record<string, string> = {}): Graph {
  const { graph, diagnostics } = compile(config, { args });
  expect(diagnostics).toEqual([]);
  return graph;
}

const extension: Record<Exclude<GraphFormat, 'json'>, string> = { text: 'txt', dot: 'dot', mermaid: 'mmd' };

describe('renderGraph on a compiled config', () => {
  for (const [format, ext] of Object.entries(extension) as [GraphFormat, string][]) {
    it(`${format} matches its snapshot`, async () => {
      await expect(renderGraph(compiled(), format)).toMatchFileSnapshot(`__snapshots__/basic.graph.${ext}`);
    });
  }

  it('json is the graph itself, pretty-printed, with a final newline', () => {
    const graph = compiled();
    const json = renderGraph(graph, 'json');
    expect(json.endsWith('}\n')).toBe(true);
    expect(JSON.parse(json)).toEqual(graph);
    expect(json).toBe(JSON.stringify(graph, null, 2) + '\n');
  });

  it('follows the arg values the graph was compiled for', () => {
    const text = renderGraph(compiled({ NODE_VERSION: '20' }), 'text');
    expect(text).toContain('NODE_VERSION=20 (given)');
    expect(renderGraph(compiled(), 'text')).toContain('NODE_VERSION=22 (default)');
  });
});

describe('renderGraph on every op', () => {
  for (const [format, ext] of Object.entries(extension) as [GraphFormat, string][]) {
    it(`${format} matches its snapshot`, async () => {
      await expect(renderGraph(everyOpGraph, format)).toMatchFileSnapshot(`__snapshots__/every-op.graph.${ext}`);
    });
  }

  it('text has one line per node, `<12 hex>  <INSTRUCTION>`, control characters escaped', () => {
    const text = renderGraph(everyOpGraph, 'text');
    const nodeLines = text.split('\n').filter((l) => /^ {4}\S/.test(l));
    const count = everyOpGraph.images.flatMap((i) => i.stages).reduce((n, s) => n + 1 + s.nodes.length, 0);
    expect(nodeLines).toHaveLength(count);
    for (const line of nodeLines) expect(line).toMatch(/^ {4}[0-9a-f]{12} {2}[A-Z]+ /);
    expect(text).not.toMatch(/\t/);
    expect(text).toContain('apt-get update &&\\n  apt-get install -y "curl"\\t# tab');
  });

  it('dot is accepted by Graphviz', () => {
    const svg = execFileSync('dot', ['-Tsvg'], { input: renderGraph(everyOpGraph, 'dot'), encoding: 'utf8' });
    expect(svg).toContain('<svg');
    // Quotes and backslashes inside labels survive: dot shows them as written.
    expect(svg).toContain('ONBUILD RUN echo &quot;#1 &lt;b&gt;&quot;');
    expect(svg).toContain('8080 \\\\ end');
  });

  it('mermaid labels carry no raw quotes or angle brackets', () => {
    const mermaid = renderGraph(everyOpGraph, 'mermaid');
    for (const label of mermaid.matchAll(/\["(.*?)"\]|\("(.*?)"\)/g)) {
      expect(label[1] ?? label[2]).not.toMatch(/["<>]/);
    }
    expect(mermaid).toContain('ONBUILD RUN echo #quot;#35;1 #lt;b#gt;#quot;"]');
  });

  it('dot and mermaid draw the same boxes and arrows', () => {
    const dot = renderGraph(everyOpGraph, 'dot');
    const mermaid = renderGraph(everyOpGraph, 'mermaid');
    const dotEdges = [...dot.matchAll(/^ {2}(n\d+) -> (n\d+)( \[style=dashed)?/gm)].map(
      (m) => `${m[1]}>${m[2]}${m[3] ? ' input' : ''}`,
    );
    const mermaidEdges = [...mermaid.matchAll(/^ {2}(n\d+) (-->|-\.->)(?:\|\w+\|)? (n\d+)$/gm)].map(
      (m) => `${m[1]}>${m[3]}${m[2] === '-.->' ? ' input' : ''}`,
    );
    expect(dotEdges.length).toBeGreaterThan(20);
    expect(mermaidEdges).toEqual(dotEdges);
    // COPY --from=empty reads a stage that has no nodes: the arrow leaves its FROM box.
    expect(dot).toMatch(/label="141414141414 {2}FROM scratch AS empty"/);
  });
});

describe('renderGraph image selection', () => {
  it('keeps only the images asked for, in graph order, in every format', () => {
    const graph = compiled();
    const web = renderGraph(graph, 'json', { images: ['web'] });
    expect((JSON.parse(web) as Graph).images.map((i) => i.name)).toEqual(['web']);
    expect(renderGraph(graph, 'text', { images: ['web', 'api'] })).toBe(renderGraph(graph, 'text'));
    expect(renderGraph(graph, 'text', { images: [] })).toBe(renderGraph(graph, 'text'));
    expect(renderGraph(graph, 'dot', { images: ['web'] })).not.toContain('image api');
  });

  it('throws DD150 naming every unknown image and the images there are', () => {
    let diagnostics: readonly Diagnostic[] = [];
    try {
      renderGraph(compiled(), 'text', { images: ['api', 'nope', 'nada'] });
    } catch (err) {
      diagnostics = (err as { diagnostics: readonly Diagnostic[] }).diagnostics;
    }
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['DD150', 'unknown image "nope" (images: api, web)'],
      ['DD150', 'unknown image "nada" (images: api, web)'],
    ]);
  });
});
