// docker-bake.json: one target per image, paths relative to the output directory (dockerfile
// relative to the context, as bake reads it), secrets in buildx's spec syntax.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitBake, type Graph } from '@drydock/core';
import { arg, graph, image, node, stage } from './graphs.js';

const root = path.resolve('/project');
const opts = { outDir: path.join(root, 'dockerfiles'), configDir: root };

function twoImages(): Graph {
  return graph(
    [
      image(
        'api',
        [
          stage('deps', 'node:${NODE}-slim', [
            node({
              op: 'run',
              command: { shell: 'npm ci' },
              mounts: [
                { type: 'secret', id: 'npmrc', target: '/root/.npmrc' },
                { type: 'secret', id: 'token', env: 'TOKEN' },
                { type: 'ssh' },
              ],
            }),
          ]),
          stage('runtime', 'node:${NODE}-slim', [node({ op: 'env', env: [['PORT', '${PORT}']] }, ['PORT'])]),
        ],
        {
          context: 'services/api',
          tags: ['acme/api:latest', 'acme/api:${NODE}'],
          platforms: ['linux/amd64', 'linux/arm64'],
        },
      ),
      image('web', [stage('main', 'busybox:latest')], { tags: ['acme/web'] }),
    ],
    [arg('NODE', '22'), arg('PORT', '3000'), arg('REQUIRED', undefined)],
    ['token', 'npmrc', 'unused'],
  );
}

describe('emitBake', () => {
  it('writes the default group and one target per image, keys in a stable order', () => {
    const text = emitBake(twoImages(), {
      ...opts,
      secrets: { npmrc: { from: 'file', path: 'secrets/npmrc' }, token: { from: 'env', name: 'NPM_TOKEN' } },
    });
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain(
      '\n  "group": {\n    "default": {\n      "targets": [\n        "api",\n        "web"\n      ]',
    );
    expect(JSON.parse(text)).toEqual({
      group: { default: { targets: ['api', 'web'] } },
      target: {
        api: {
          context: '../services/api',
          dockerfile: '../../dockerfiles/api.Dockerfile',
          target: 'runtime',
          args: { NODE: '22', PORT: '3000' },
          tags: ['acme/api:latest', 'acme/api:$${NODE}'],
          platforms: ['linux/amd64', 'linux/arm64'],
          secret: ['id=token,env=NPM_TOKEN', 'id=npmrc,src=../secrets/npmrc'],
          ssh: ['default'],
        },
        web: { context: '..', dockerfile: 'dockerfiles/web.Dockerfile', target: 'main', args: {}, tags: ['acme/web'] },
      },
    });
    expect(Object.keys(JSON.parse(text).target.api as object)).toEqual([
      'context',
      'dockerfile',
      'target',
      'args',
      'tags',
      'platforms',
      'secret',
      'ssh',
    ]);
  });

  it('reads a file named by an environment variable through a declared bake variable', () => {
    const bake = JSON.parse(
      emitBake(twoImages(), {
        ...opts,
        images: ['api'],
        secrets: { npmrc: { from: 'file-env', name: 'NPMRC_FILE' }, token: { from: 'env', name: 'NPM_TOKEN' } },
      }),
    );
    expect(Object.keys(bake)).toEqual(['variable', 'group', 'target']);
    expect(bake.variable).toEqual({ NPMRC_FILE: { default: '' } });
    expect(bake.target.api.secret).toEqual(['id=token,env=NPM_TOKEN', 'id=npmrc,src=${NPMRC_FILE}']);
    expect(bake.group.default.targets).toEqual(['api']);
  });

  it('leaves out secrets it cannot express: command secrets and unknown sources', () => {
    const bake = JSON.parse(
      emitBake(twoImages(), { ...opts, secrets: { npmrc: { from: 'command', command: 'cat ~/.npmrc' } } }),
    );
    expect(bake.target.api.secret).toBeUndefined();
    expect(emitBake(twoImages(), opts)).not.toContain('"secret"');
  });

  it('escapes bake interpolation in literal strings', () => {
    const g = graph(
      [
        image('a', [stage('main', 'busybox:latest', [node({ op: 'env', env: [['X', '${X}']] }, ['X'])])], {
          tags: ['t:%{x}'],
        }),
      ],
      [arg('X', 'costs ${money} and %{fmt}')],
    );
    const bake = JSON.parse(emitBake(g, opts));
    expect(bake.target.a.args).toEqual({ X: 'costs $${money} and %%{fmt}' });
    expect(bake.target.a.tags).toEqual(['t:%%{x}']);
  });

  it('rejects an unknown image with DD150', () => {
    expect(() => emitBake(twoImages(), { ...opts, images: ['nope'] })).toThrowError(/unknown image "nope"/);
  });
});
