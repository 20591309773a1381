// Build args: declared globally before the first FROM, in graph.args order, and redeclared inside
// each stage that reads them (Dockerfile scoping); refs no frontend expands get a stage or the value.
import { describe, expect, it } from 'vitest';
import { emitDockerfile } from '@drydock/core';
import { arg, body, graph, image, node, stage } from './graphs.js';

const emit = (g: ReturnType<typeof graph>, name = 'app'): string =>
  body(emitDockerfile(g, name, { configFile: 'images.config.ts' }));

describe('ARG declarations', () => {
  it('declares used args globally in graph.args order and redeclares them per stage', () => {
    const g = graph(
      [
        image('app', [
          stage('build', 'node:${NODE_VERSION}-slim', [
            node({ op: 'run', command: { shell: 'npm ci --omit=${OMIT}' }, mounts: [] }, ['OMIT']),
          ]),
          stage('runtime', { kind: 'image', ref: 'node:${NODE_VERSION}-slim', platform: '${PLATFORM}' }, [
            node(
              {
                op: 'env',
                env: [
                  ['PORT', '${PORT}'],
                  ['OMIT', '${OMIT}'],
                ],
              },
              ['PORT', 'OMIT'],
            ),
            node({ op: 'expose', ports: ['${PORT}'] }, ['PORT']),
          ]),
        ]),
      ],
      [
        arg('PORT', '3000'),
        arg('UNUSED', 'x'),
        arg('OMIT', 'dev'),
        arg('PLATFORM', 'linux/amd64'),
        arg('NODE_VERSION', '22'),
      ],
    );
    expect(emit(g)).toBe(
      [
        'ARG PORT=3000',
        'ARG OMIT=dev',
        'ARG PLATFORM=linux/amd64',
        'ARG NODE_VERSION=22',
        '',
        'FROM node:${NODE_VERSION}-slim AS build',
        'ARG OMIT',
        'RUN npm ci --omit=${OMIT}',
        '',
        'FROM --platform=${PLATFORM} node:${NODE_VERSION}-slim AS runtime',
        'ARG PORT',
        'ARG OMIT',
        'ENV PORT=${PORT} \\',
        '    OMIT=${OMIT}',
        'EXPOSE ${PORT}',
        '',
      ].join('\n'),
    );
  });

  it('declares a required arg without a value as a bare ARG', () => {
    const g = graph(
      [
        image('app', [
          stage('main', 'busybox:latest', [node({ op: 'env', env: [['T', '${TOKEN_ID}']] }, ['TOKEN_ID'])]),
        ]),
      ],
      [arg('TOKEN_ID', undefined)],
    );
    expect(emit(g)).toMatch(/^ARG TOKEN_ID\n\nFROM busybox:latest AS main\nARG TOKEN_ID\nENV T=\$\{TOKEN_ID\}\n$/);
  });

  it('declares nothing when no arg is used', () => {
    const g = graph(
      [image('app', [stage('main', 'busybox:latest', [node({ op: 'workdir', path: '/' })])])],
      [arg('X', '1')],
    );
    expect(emit(g)).toBe('FROM busybox:latest AS main\nWORKDIR /\n');
  });

  it('redeclares built-in platform args in the stage without declaring them globally', () => {
    const g = graph([
      image('app', [
        stage('main', 'busybox:latest', [
          node({ op: 'run', command: { shell: 'echo ${TARGETARCH}' }, mounts: [] }, ['TARGETARCH']),
        ]),
      ]),
    ]);
    expect(emit(g)).toBe('FROM busybox:latest AS main\nARG TARGETARCH\nRUN echo ${TARGETARCH}\n');
  });
});

describe('refs no Dockerfile expands', () => {
  it('gives an image ref with variables in COPY --from or mount from= a stage of its own', () => {
    const g = graph(
      [
        image('app', [
          stage('main', 'busybox:latest', [
            node(
              {
                op: 'copy',
                from: { kind: 'image', ref: 'ghcr.io/acme/tools:${TOOLS}' },
                sources: ['/bin/t'],
                dest: '/t',
              },
              ['TOOLS'],
            ),
            node(
              {
                op: 'run',
                command: { shell: 'ls /m' },
                mounts: [{ type: 'bind', target: '/m', from: { kind: 'image', ref: 'ghcr.io/acme/tools:${TOOLS}' } }],
              },
              ['TOOLS'],
            ),
            node({ op: 'copy', from: { kind: 'image', ref: 'busybox:1.36' }, sources: ['/bin/sh'], dest: '/sh' }),
          ]),
        ]),
      ],
      [arg('TOOLS', '1.2')],
    );
    expect(emit(g)).toBe(
      [
        'ARG TOOLS=1.2',
        '',
        '# COPY --from and mount from= do not expand build args, so these images get a stage of their own',
        'FROM ghcr.io/acme/tools:${TOOLS} AS drydock-ref-1',
        '',
        'FROM busybox:latest AS main',
        'COPY --from=drydock-ref-1 /bin/t /t',
        'RUN --mount=type=bind,target=/m,from=drydock-ref-1 \\',
        '    ls /m',
        'COPY --from=busybox:1.36 /bin/sh /sh',
        '',
      ].join('\n'),
    );
  });

  it('picks alias names that no stage has', () => {
    const g = graph(
      [
        image('app', [
          stage('drydock-ref-1', 'busybox:latest'),
          stage('main', 'busybox:latest', [
            node({ op: 'copy', from: { kind: 'image', ref: 'x:${V}' }, sources: ['/a'], dest: '/a' }, ['V']),
          ]),
        ]),
      ],
      [arg('V', '1')],
    );
    expect(emit(g)).toContain('FROM x:${V} AS drydock-ref-2\n');
  });

  it('inlines args in --exclude patterns and says so in the header', () => {
    const g = graph(
      [
        image('app', [
          stage('main', 'busybox:latest', [
            node(
              { op: 'copy', from: { kind: 'context' }, sources: ['.'], dest: '/app', exclude: ['*.${EXT}', '$KEEP'] },
              ['EXT'],
            ),
          ]),
        ]),
      ],
      [arg('EXT', 'log')],
    );
    const text = emitDockerfile(g, 'app', { configFile: 'images.config.ts' });
    expect(text).toContain('# EXT=log is inlined in COPY --exclude: Dockerfiles do not expand build args there\n');
    expect(body(text)).toBe('FROM busybox:latest AS main\nCOPY --exclude=*.log --exclude=$KEEP . /app\n');
  });
});
