/**
 * The proof: applying a Dockerfile's COPY/ADD instructions with the copy leaf onto the exported
 * base rootfs gives the same file tree as BuildKit (docker 20.10's) building them: path, type, mode
 * (setuid/setgid/sticky too), uid, gid, content, link target and hardlink groups; mtimes aside.
 * One build with three targets (the source stage for --from, the base, the result); the error
 * cases are small builds from the same cached base.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Matcher, selectSources, walkContext, type ContextIndex } from '../../core/src/context/index.js';
import {
  CopyError,
  applyAdd,
  applyAddUrl,
  applyCopy,
  resolveChown,
  type CopyErrorCode,
  type CopyOptions,
} from '../../core/src/copy/index.js';
import { filesAt } from '../../core/src/exec/index.js';
import { docker, ok } from '../e2e/helpers.js';
import { listTree, makeContext, sh, withXattrs, type TreeEntry } from './fixture.js';

const TAG = `drydock-copy-test-${process.pid}`;

interface FileStep {
  op: 'COPY' | 'ADD';
  sources: string[];
  dest: string;
  chown?: string;
  chmod?: string;
  from?: 'own';
}
interface UrlStep {
  op: 'URL';
  path: string;
  dest: string;
  chown?: string;
}
type Step = FileStep | UrlStep;

const STAGES = `FROM busybox AS own
ADD cap.tar /o/cap/
RUN mkdir -p /o/d && echo z > /o/f && chown 7:8 /o/f /o/d && chmod 4711 /o/f && ln /o/f /o/d/f2 && ln -s f /o/l && chown -h 3:3 /o/l

FROM busybox AS base
COPY etc/ /etc/
RUN mkdir -p /ex/top/sub /ex/somedir /ex2/t && chmod 700 /ex/top && chmod 701 /ex/top/sub && chown 5:5 /ex/top /ex/top/sub \\
 && echo o > /ex/top/a.txt && chmod 600 /ex/top/a.txt && chown 9:9 /ex/top/a.txt \\
 && echo old > /ex/file && echo old > /ex/old && chmod 600 /ex/old && chown 9:9 /ex/old \\
 && ln -s /ex/top /ex/linktop && ln -s /ex/file /ex/linkfile && ln -s /nowhere/x /ex/dangling \\
 && chmod 700 /ex2/t && chown 5:5 /ex2/t \\
 && mkdir -p /m2 /m3/a.txt && ln -s /tmp /m2/sub && echo f > /m4
`;

const STEPS: Step[] = [
  { op: 'COPY', sources: ['dir'], dest: '/n1/p/q/', chown: 'app' },
  { op: 'COPY', sources: ['dir'], dest: '/n2/p/q' },
  { op: 'COPY', sources: ['file.txt'], dest: '/n3/' },
  { op: 'COPY', sources: ['file.txt'], dest: '/n3/renamed' },
  { op: 'COPY', sources: ['.'], dest: '/all/' },
  { op: 'COPY', sources: ['*.sh', 'file.txt', 'dir/sub'], dest: '/n7/' },
  { op: 'COPY', sources: ['h1', 'h2'], dest: '/hh/' },
  { op: 'COPY', sources: ['top', 'h1/x', 'h*'], dest: '/ht/' },
  { op: 'COPY', sources: ['dir', 'dir'], dest: '/twice/' },
  { op: 'COPY', sources: ['dir'], dest: '/ex/top', chown: 'app:staff' },
  { op: 'COPY', sources: ['exec.sh'], dest: '/ex/somedir' },
  { op: 'COPY', sources: ['file.txt'], dest: '/n4', chown: '1000' },
  { op: 'COPY', sources: ['file.txt'], dest: '/n4b', chown: 'other:50' },
  { op: 'COPY', sources: ['file.txt'], dest: '/n4c', chown: '2000:app' },
  { op: 'COPY', sources: ['file.txt'], dest: '/n4d', chown: '77:88' },
  { op: 'COPY', sources: ['dir'], dest: '/n6/', chmod: '640' },
  { op: 'COPY', sources: ['file.txt'], dest: '/ex/linktop' },
  { op: 'COPY', sources: ['file.txt'], dest: '/ex/linkfile' },
  { op: 'COPY', sources: ['file.txt'], dest: '/ex/dangling' },
  { op: 'COPY', sources: ['exec.sh'], dest: '/ex/linktop/viadir/f' },
  { op: 'COPY', sources: ['file.txt'], dest: '/ex/old' },
  { op: 'COPY', sources: ['/o'], dest: '/n13', from: 'own' },
  { op: 'COPY', sources: ['/o/f'], dest: '/n13b', from: 'own' },
  { op: 'COPY', sources: ['/o'], dest: '/n13c', from: 'own', chown: 'app' },
  { op: 'ADD', sources: ['a.tar'], dest: '/a1/' },
  { op: 'ADD', sources: ['a.tgz'], dest: '/a2' },
  { op: 'ADD', sources: ['a.txz'], dest: '/a3/' },
  { op: 'ADD', sources: ['a.tbz'], dest: '/a4/' },
  { op: 'ADD', sources: ['a.tzst'], dest: '/a5/' },
  { op: 'ADD', sources: ['plain.gz'], dest: '/a6/' },
  { op: 'ADD', sources: ['noext'], dest: '/a7/' },
  { op: 'ADD', sources: ['a.tgz'], dest: '/a8/p/', chown: 'app' },
  { op: 'ADD', sources: ['a.tar'], dest: '/ex2' },
  { op: 'ADD', sources: ['a.tar'], dest: '/a9/', chmod: '600' },
  { op: 'ADD', sources: ['dir'], dest: '/a10/' },
  { op: 'ADD', sources: ['file.txt'], dest: '/a11', chown: 'app:staff', chmod: '700' },
  { op: 'ADD', sources: ['tiny', 'empty', 'a.txz'], dest: '/a12/' },
  { op: 'ADD', sources: ['cap.tar'], dest: '/a13/' },
  { op: 'ADD', sources: ['a.t*', 'file.txt'], dest: '/a14/' },
  { op: 'ADD', sources: ['a.tar'], dest: '/ex/somedir' },
  { op: 'COPY', sources: ['h1'], dest: '/ex/linktop' },
  { op: 'URL', path: '/files/dl.txt', dest: '/u1/' },
  { op: 'URL', path: '/files/dl.txt', dest: '/u2', chown: 'app' },
  { op: 'URL', path: '/files/', dest: '/u3/' },
  { op: 'URL', path: '/files/dl.txt', dest: '/ex/somedir' },
];

/** Docker's own additions to every exported container, not part of any layer. */
const SKIP = new Set(['proc', 'sys', 'dev', '.dockerenv', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf']);

let work: string;
let ctx: string;
let ctxIndex: ContextIndex;
let server: Server;
let base: string;
let port: number;

function line(s: Step): string {
  const flags = [
    s.chown && `--chown=${s.chown}`,
    'chmod' in s && s.chmod && `--chmod=${s.chmod}`,
    'from' in s && s.from && `--from=${s.from}`,
  ];
  const args = s.op === 'URL' ? [`http://127.0.0.1:${port}${s.path}`, s.dest] : [...s.sources, s.dest];
  return [s.op === 'URL' ? 'ADD' : s.op, ...flags.filter(Boolean), JSON.stringify(args)].join(' ');
}

async function exportImage(target: string, into: string): Promise<void> {
  const id = ok('docker create', await docker(['create', `${TAG}:${target}`, 'true'])).stdout.trim();
  try {
    await sh(
      `mkdir -p ${into} && /usr/bin/docker export ${id} | tar --numeric-owner --xattrs --xattrs-include='*' -xpf - -C ${into}`,
    );
  } finally {
    await docker(['rm', id]);
  }
}

async function build(dockerfile: string, target: string): Promise<Awaited<ReturnType<typeof docker>>> {
  const file = join(work, `Dockerfile.${Math.random().toString(36).slice(2)}`);
  await writeFile(file, dockerfile);
  return docker(['build', '-q', '--target', target, '-f', file, '-t', `${TAG}:${target}`, ctx]);
}

function lines(tree: Map<string, TreeEntry>): string[] {
  return [...tree].map(([path, e]) => `${path} ${JSON.stringify(e)}`);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'drydock-copy-bk-'));
  ctx = await makeContext();
  ctxIndex = await walkContext(ctx, new Matcher([]));
  server = createServer((req, res) => {
    if (req.url?.startsWith('/files/')) res.end(`downloaded ${req.url}\n`);
    else res.writeHead(404).end('no\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  const dockerfile = `${STAGES}\nFROM base AS out\n${STEPS.map(line).join('\n')}\n`;
  ok('docker build out', await build(dockerfile, 'out'));
  ok('docker build base', await build(dockerfile, 'base'));
  ok('docker build own', await build(dockerfile, 'own'));
  base = join(work, 'base');
  await exportImage('base', base);
});

afterAll(async () => {
  server?.close();
  await docker(['rmi', '-f', `${TAG}:out`, `${TAG}:base`, `${TAG}:own`]);
  if (work) await rm(work, { recursive: true, force: true });
  if (ctx) await rm(ctx, { recursive: true, force: true });
});

async function apply(rootfs: string, s: Step, own: { dir: string; index: ContextIndex }): Promise<void> {
  const owner = s.chown ? await resolveChown(filesAt(rootfs), s.chown) : undefined;
  if (s.op === 'URL') {
    await applyAddUrl({ rootfs, url: `http://127.0.0.1:${port}${s.path}`, dest: s.dest, owner });
    return;
  }
  const [sourceRoot, index] = s.from ? [own.dir, own.index] : [ctx, ctxIndex];
  const o: CopyOptions = {
    rootfs,
    sourceRoot,
    selection: selectSources(index, { sources: s.sources, dest: s.dest }),
    dest: s.dest,
    owner,
    fromStage: s.from !== undefined,
    chmod: s.chmod === undefined ? undefined : parseInt(s.chmod, 8),
  };
  await (s.op === 'ADD' ? applyAdd(o) : applyCopy(o));
}

describe('COPY/ADD applied by drydock equal what BuildKit builds', () => {
  it('for every step of the corpus, in order, onto the base rootfs', async () => {
    const theirs = join(work, 'out');
    const ownDir = join(work, 'own');
    await exportImage('out', theirs);
    await exportImage('own', ownDir);
    const own = { dir: ownDir, index: await walkContext(ownDir, new Matcher([])) };
    const mine = join(work, 'mine');
    await sh(`cp -a ${base} ${mine}`);
    for (const s of STEPS) await apply(mine, s, own);
    const skip = (rel: string) => SKIP.has(rel);
    const expected = await withXattrs(theirs, listTree(theirs, skip));
    // Not a vacuous comparison: the build did what the corpus says.
    expect(expected.get('a1/t/d/x')).toMatchObject({ uid: 1234, gid: 4321, mode: '640', links: ['a1/t/d/hl'] });
    expect(expected.get('n1/p/q/sub/b')).toMatchObject({ uid: 1000, gid: 1001, mode: '4755' });
    expect(expected.get('n13/f')).toMatchObject({ uid: 7, gid: 8, mode: '4711' });
    expect(expected.get('u1/dl.txt')).toMatchObject({ mode: '600' });
    expect(expected.get('n13/cap/capbin')?.xattrs).toEqual([expect.stringMatching(/^security\.capability=/)]);
    expect(lines(await withXattrs(mine, listTree(mine, skip)))).toEqual(lines(expected));
  });

  // Each: a step BuildKit refuses, and the CopyError drydock raises for it.
  it.each<[string, Step, CopyErrorCode]>([
    [
      'a copied dir onto a symlink below the destination',
      { op: 'COPY', sources: ['dir'], dest: '/m2' },
      'not-a-directory',
    ],
    ['a file onto a directory below the destination', { op: 'COPY', sources: ['dir'], dest: '/m3' }, 'is-a-directory'],
    ['a directory onto a file', { op: 'COPY', sources: ['dir'], dest: '/m4' }, 'not-a-directory'],
    [
      'a file into a destination/ that is a file',
      { op: 'COPY', sources: ['file.txt'], dest: '/m4/' },
      'not-a-directory',
    ],
    ['an archive into a destination that is a file', { op: 'ADD', sources: ['a.tar'], dest: '/m4' }, 'not-a-directory'],
  ])('%s fails in both', async (_what, s, code) => {
    const r = await build(`${STAGES}\nFROM base AS bad\n${line(s)}\n`, 'bad');
    expect(r.code).not.toBe(0);
    const mine = join(work, `bad-${code}-${Math.random().toString(36).slice(2)}`);
    await sh(`cp -a ${base} ${mine}`);
    await expect(apply(mine, s, { dir: '', index: ctxIndex })).rejects.toThrow(
      expect.objectContaining({ code }) as CopyError,
    );
  });
});
