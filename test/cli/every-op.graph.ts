/**
 * A hand-written graph with every op, mount type, base kind and the characters each format must
 * escape, so the renderers are tested on all of it independently of what the compiler emits today.
 */
import type { Graph, Node, Op } from '@drydock/core';

const digest = (n: number) => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`;

function nodes(first: number, ops: (Op & { args?: string[] })[]): Node[] {
  return ops.map((op, i) => ({ args: [], ...op, id: digest(first + i + 1), parent: digest(first + i), inputs: [] }));
}

export const everyOpGraph: Graph = {
  version: 1,
  args: [
    { name: 'BASE', type: 'string', value: 'debian:bookworm', default: 'debian:bookworm', given: false },
    { name: 'PORT', type: 'int', value: '8080', default: '80', given: true, description: 'port' },
    { name: 'TOKENLESS', type: 'boolean', given: false },
  ],
  secrets: ['npmrc'],
  images: [
    {
      name: 'all',
      context: 'app',
      ignore: ['*.log', 'tmp/'],
      tags: ['example.com/all:1', 'example.com/all:latest'],
      platforms: ['linux/amd64', 'linux/arm64'],
      description: 'every "op" <at> once & more',
      target: 'final',
      baked: [
        { name: 'PORT', value: '8080', reason: 'no-expansion', where: 'CMD' },
        { name: 'BASE', value: 'debian:bookworm', reason: 'branch' },
      ],
      digest: digest(40),
      stages: [
        {
          name: 'tools',
          base: { kind: 'image', ref: '${BASE}', platform: 'linux/amd64' },
          baseDigest: digest(10),
          dependsOn: [],
          nodes: nodes(10, [
            { op: 'shell', shell: ['/bin/bash', '-o', 'pipefail', '-c'] },
            {
              op: 'run',
              command: { shell: 'apt-get update &&\n  apt-get install -y "curl"\t# tab' },
              mounts: [
                {
                  type: 'cache',
                  target: '/var/cache/apt',
                  id: 'apt',
                  sharing: 'locked',
                  readonly: true,
                  mode: '0755',
                  uid: 0,
                  gid: 0,
                },
                { type: 'secret', id: 'npmrc', target: '/root/.npmrc', required: true, mode: '0400' },
                { type: 'secret', id: 'npmrc', env: 'NPM_TOKEN' },
                { type: 'ssh', id: 'default', required: false },
                { type: 'tmpfs', target: '/tmp', size: 1048576 },
              ],
              network: 'none',
              security: 'insecure',
            },
            {
              op: 'add',
              sources: ['https://example.com/x.tar.gz'],
              dest: '/opt/',
              checksum: 'sha256:abc',
              link: true,
              chmod: '0644',
            },
            { op: 'add', sources: ['repo.git'], dest: '/src', keepGitDir: true, exclude: ['*.md'], chown: '1000:1000' },
          ]),
        },
        {
          name: 'empty',
          base: { kind: 'scratch' },
          baseDigest: digest(20),
          dependsOn: [],
          nodes: [],
        },
        {
          name: 'final',
          base: { kind: 'stage', stage: 'tools' },
          baseDigest: digest(30),
          dependsOn: ['tools', 'empty'],
          nodes: nodes(30, [
            { op: 'workdir', path: '/srv/my app' },
            {
              op: 'env',
              env: [
                ['GREETING', 'hello "world"'],
                ['EMPTY', ''],
                ['PORT', '${PORT}'],
              ],
              args: ['PORT'],
            },
            { op: 'copy', from: { kind: 'context' }, sources: ['my file.txt', 'b'], dest: './' },
            {
              op: 'copy',
              from: { kind: 'stage', stage: 'empty' },
              sources: ['/'],
              dest: '/e',
              parents: true,
              exclude: ['x', 'y'],
            },
            { op: 'copy', from: { kind: 'image', ref: 'busybox:1.35' }, sources: ['/bin/busybox'], dest: '/bin/' },
            {
              op: 'run',
              command: { exec: ['sh', '-c', 'echo "#1 <b>"'] },
              mounts: [
                {
                  type: 'bind',
                  target: '/tools',
                  from: { kind: 'stage', stage: 'tools' },
                  source: '/opt',
                  readwrite: true,
                },
                { type: 'bind', target: '/ctx', from: { kind: 'context' } },
                { type: 'cache', target: '/c', from: { kind: 'image', ref: 'alpine:3' }, source: '/cache' },
              ],
            },
            {
              op: 'label',
              labels: [
                ['org.opencontainers.image.title', 'all'],
                ['with space', 'a b'],
              ],
            },
            { op: 'expose', ports: ['8080', '53/udp'] },
            { op: 'volume', paths: ['/data', '/logs'] },
            { op: 'user', user: 'app:app' },
            {
              op: 'healthcheck',
              healthcheck: {
                test: { exec: ['curl', '-f', 'http://localhost/'] },
                interval: '30s',
                timeout: '3s',
                startPeriod: '5s',
                startInterval: '1s',
                retries: 3,
              },
            },
            { op: 'healthcheck', healthcheck: { test: 'none' } },
            { op: 'stopsignal', signal: 'SIGTERM' },
            { op: 'onbuild', instruction: 'RUN echo "#1 <b>"' },
            { op: 'entrypoint', command: { exec: ['/entry.sh'] } },
            { op: 'cmd', command: { shell: 'serve --port 8080 \\\\ end' } },
          ]),
        },
      ],
    },
    {
      name: 'tiny',
      context: '.',
      ignore: [],
      tags: [],
      platforms: [],
      target: 'tiny',
      baked: [],
      digest: digest(60),
      stages: [
        {
          name: 'tiny',
          base: { kind: 'image', ref: 'busybox:1.35' },
          baseDigest: digest(50),
          dependsOn: [],
          nodes: nodes(50, [{ op: 'cmd', command: { exec: ['sh'] } }]),
        },
      ],
    },
  ],
};
