/**
 * The copy leaf on plain temp dirs as rootfs (fast; the BuildKit equivalence is buildkit.test.ts):
 * --chown resolution, destinations through symlinks never leaving the rootfs, archive extraction
 * scoped to the destination, ADD <url> with checksums and HTTP failures, and a 20,000-file copy.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Matcher, selectSources, walkContext } from '../../core/src/context/index.js';
import {
  CopyError,
  applyAdd,
  applyAddUrl,
  applyCopy,
  isArchive,
  resolveChown,
  urlFileName,
  type CopyErrorCode,
} from '../../core/src/copy/index.js';
import { filesAt } from '../../core/src/exec/index.js';
import type { LayerEntry } from '../../core/src/oci/entry.js';
import { tarChunks } from '../../core/src/oci/tar-writer.js';
import { GROUP, PASSWD, listTree, sh } from './fixture.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'drydock-copy-unit-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
async function dir(files: Record<string, string> = {}): Promise<string> {
  const d = join(tmp, `d${n++}`);
  await mkdir(d);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(d, rel, '..'), { recursive: true });
    await writeFile(join(d, rel), content);
  }
  return d;
}

async function copy(ctx: string, rootfs: string, sources: string[], dest: string, add = false): Promise<void> {
  const selection = selectSources(await walkContext(ctx, new Matcher([])), { sources, dest });
  await (add ? applyAdd : applyCopy)({ rootfs, sourceRoot: ctx, selection, dest });
}

const fails = (code: CopyErrorCode) => expect.objectContaining({ code }) as CopyError;

describe('resolveChown', () => {
  let rootfs: string;
  beforeAll(async () => {
    rootfs = await dir({ 'real/passwd': PASSWD, 'etc/group': GROUP });
    await symlink('/real/passwd', join(rootfs, 'etc/passwd')); // followed inside the rootfs
  });
  it.each([
    ['1000', { uid: 1000, gid: 1000 }],
    ['app', { uid: 1000, gid: 1001 }],
    ['app:staff', { uid: 1000, gid: 50 }],
    ['other:50', { uid: 2000, gid: 50 }],
    ['2000:app', { uid: 2000, gid: 1001 }],
    ['77:88', { uid: 77, gid: 88 }],
  ])('%s', async (spec, owner) => {
    expect(await resolveChown(filesAt(rootfs), spec)).toEqual(owner);
  });
  it.each<[string, CopyErrorCode]>([
    ['nosuch', 'unknown-user'],
    ['app:nogroup', 'unknown-group'],
    ['', 'bad-chown'],
    ['a:b:c', 'bad-chown'],
  ])('%j fails with %s', async (spec, code) => {
    await expect(resolveChown(filesAt(rootfs), spec)).rejects.toThrow(fails(code));
  });
  it('numeric ids need no /etc/passwd', async () => {
    expect(await resolveChown(filesAt(await dir()), '5:6')).toEqual({ uid: 5, gid: 6 });
    await expect(resolveChown(filesAt(await dir()), 'app')).rejects.toThrow(fails('unknown-user'));
  });
});

describe('applyCopy', () => {
  it('follows symlinks in the destination inside the rootfs, never out of it', async () => {
    const ctx = await dir({ 'f.txt': 'f\n' });
    const rootfs = await dir();
    const outside = await dir();
    await symlink('/', join(rootfs, 'up'));
    await symlink(`${outside}`, join(rootfs, 'abs'));
    await symlink('../../..', join(rootfs, 'rel'));
    await copy(ctx, rootfs, ['f.txt'], '/up/a/');
    await copy(ctx, rootfs, ['f.txt'], '/abs/b');
    await copy(ctx, rootfs, ['f.txt'], '/rel/c');
    expect(readFileSync(join(rootfs, 'a/f.txt'), 'utf8')).toBe('f\n');
    expect(readFileSync(join(rootfs, outside, 'b'), 'utf8')).toBe('f\n');
    expect(readFileSync(join(rootfs, 'c'), 'utf8')).toBe('f\n');
    expect(listTree(outside).size).toBe(0);
  });

  it('puts a single file inside an existing directory under its name, else at the destination', async () => {
    const ctx = await dir({ 'f.txt': 'new\n' });
    const rootfs = await dir({ 'd/keep': 'k', file: 'old' });
    await copy(ctx, rootfs, ['f.txt'], '/d');
    await copy(ctx, rootfs, ['f.txt'], '/file');
    await copy(ctx, rootfs, ['f.txt'], '/x/y/z');
    expect(readFileSync(join(rootfs, 'd/f.txt'), 'utf8')).toBe('new\n');
    expect(readFileSync(join(rootfs, 'file'), 'utf8')).toBe('new\n');
    expect(lstatSync(join(rootfs, 'x/y')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(rootfs, 'x/y/z'), 'utf8')).toBe('new\n');
  });

  it('an empty selection (a wildcard matching nothing) creates nothing', async () => {
    const rootfs = await dir();
    await copy(await dir({ a: '' }), rootfs, ['nomatch*'], '/created/');
    expect(listTree(rootfs).size).toBe(0);
  });

  it('replaces a symlink below the destination instead of writing through it', async () => {
    const ctx = await dir({ 'src/victim': 'mine\n' });
    const rootfs = await dir({ 'etc/victim': 'theirs\n' });
    await mkdir(join(rootfs, 'dst'));
    await symlink('/etc/victim', join(rootfs, 'dst/victim'));
    await copy(ctx, rootfs, ['src'], '/dst');
    expect(readFileSync(join(rootfs, 'etc/victim'), 'utf8')).toBe('theirs\n');
    expect(lstatSync(join(rootfs, 'dst/victim')).isFile()).toBe(true);
  });

  it('copies 20,000 files in a few seconds', async () => {
    const ctx = await dir();
    await sh(
      'for d in $(seq 1 200); do mkdir -p src/d$d; for f in $(seq 1 100); do echo $d.$f > src/d$d/f$f; done; done',
      ctx,
    );
    const rootfs = await dir();
    const started = Date.now();
    await copy(ctx, rootfs, ['src'], '/app/');
    const ms = Date.now() - started;
    expect(readFileSync(join(rootfs, 'app/d200/f100'), 'utf8')).toBe('200.100\n');
    expect(Number((await sh('find app -type f | wc -l', rootfs)).trim())).toBe(20_000);
    expect(ms).toBeLessThan(10_000);
  }, 60_000);
});

/** A tar archive of `entries` (paths as given, even `..`), optionally compressed with a host tool. */
async function archive(entries: LayerEntry[], file: string, compress?: 'gzip' | 'xz' | 'bzip2'): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of tarChunks(entries, 0)) chunks.push(c);
  await writeFile(file, Buffer.concat(chunks));
  if (compress) await sh(`${compress} -f ${file} && mv ${file}.* ${file}`);
}
const content = (s: string) => ({ size: s.length, content: () => Readable.from([Buffer.from(s)]) });

describe('applyAdd', () => {
  it('detects archives by content, not by name', async () => {
    const ctx = await dir({ 'plain.tar': 'not a tar at all', short: 'x' });
    const entries: LayerEntry[] = [{ path: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, ...content('a') }];
    for (const c of ['gzip', 'xz', 'bzip2'] as const) await archive(entries, join(ctx, `is-${c}`), c);
    await archive(entries, join(ctx, 'is-tar'));
    await writeFile(join(ctx, 'gz-not-tar'), '');
    await sh('echo hello | gzip > gz-not-tar', ctx);
    for (const c of ['gzip', 'xz', 'bzip2', 'tar']) expect(await isArchive(join(ctx, `is-${c}`))).toBe(true);
    for (const f of ['plain.tar', 'short', 'gz-not-tar']) expect(await isArchive(join(ctx, f))).toBe(false);
  });

  it('extracts scoped to the destination: `..`, absolute symlinks and hardlinks stay inside it', async () => {
    const ctx = await dir();
    const rootfs = await dir({ 'etc/passwd': 'untouched\n' });
    await archive(
      [
        { path: '../escape', type: 'file', mode: 0o600, uid: 1, gid: 2, ...content('e') },
        { path: 'etc', type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: '/' },
        { path: 'etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, ...content('p') },
        { path: 'hl', type: 'hardlink', mode: 0o600, uid: 1, gid: 2, linkname: '../escape' },
        { path: 'p/q/r', type: 'file', mode: 0o4755, uid: 3, gid: 4, ...content('r') },
      ],
      join(ctx, 'a.tar'),
      'gzip',
    );
    await copy(ctx, rootfs, ['a.tar'], '/x', true);
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toBe('untouched\n');
    expect(readFileSync(join(rootfs, 'x/passwd'), 'utf8')).toBe('p');
    expect(readlinkSync(join(rootfs, 'x/etc'))).toBe('/');
    expect(lstatSync(join(rootfs, 'x/hl')).ino).toBe(lstatSync(join(rootfs, 'x/escape')).ino);
    const r = lstatSync(join(rootfs, 'x/p/q/r'));
    expect([r.mode & 0o7777, r.uid, r.gid]).toEqual([0o4755, 3, 4]);
    expect(lstatSync(join(rootfs, 'x/p')).mode & 0o7777).toBe(0o755);
  });

  it('never extracts an archive found below a copied directory', async () => {
    const ctx = await dir();
    await mkdir(join(ctx, 'd'));
    await archive([{ path: 'a', type: 'file', mode: 0o644, uid: 0, gid: 0, ...content('a') }], join(ctx, 'd/in.tar'));
    const rootfs = await dir();
    await copy(ctx, rootfs, ['d'], '/x/', true);
    expect(lstatSync(join(rootfs, 'x/in.tar')).isFile()).toBe(true);
  });
});

describe('applyAddUrl', () => {
  let server: Server;
  let base: string;
  const body = 'payload\n';
  const digest = 'sha256:' + createHash('sha256').update(body).digest('hex');
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/missing') res.writeHead(404, 'Not Found').end();
      else if (req.url === '/truncated') {
        res.writeHead(200, { 'content-length': '100' }).write('only ten..');
        setTimeout(() => res.destroy(), 50);
      } else res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server.close());

  it('writes the download 0600, named after the URL for a dir destination, with a good checksum', async () => {
    const rootfs = await dir();
    await applyAddUrl({
      rootfs,
      url: `${base}/a/b%20c.txt?x=1`,
      dest: '/dl/',
      checksum: digest,
      owner: { uid: 5, gid: 6 },
    });
    const st = lstatSync(join(rootfs, 'dl/b c.txt'));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o600, 5, 6]);
    expect(await readFile(join(rootfs, 'dl/b c.txt'), 'utf8')).toBe(body);
    await applyAddUrl({ rootfs, url: `${base}/x.tgz`, dest: '/named', chmod: 0o644 });
    expect(lstatSync(join(rootfs, 'named')).mode & 0o7777).toBe(0o644);
  });

  it.each<[string, string, string | undefined, CopyErrorCode]>([
    ['a checksum mismatch', '/f', 'sha256:' + '0'.repeat(64), 'checksum-mismatch'],
    ['a malformed checksum', '/f', 'md5:abc', 'bad-checksum'],
    ['an HTTP error status', '/missing', undefined, 'http-error'],
    ['a connection cut mid-download', '/truncated', undefined, 'http-error'],
  ])('%s is a typed error and writes nothing', async (_what, path, checksum, code) => {
    const rootfs = await dir();
    await expect(applyAddUrl({ rootfs, url: base + path, dest: '/out', checksum })).rejects.toThrow(fails(code));
    expect(listTree(rootfs).size).toBe(0);
  });

  it('a refused connection is an http-error naming the URL', async () => {
    const err = await applyAddUrl({ rootfs: await dir(), url: 'http://127.0.0.1:1/x', dest: '/x' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'http-error', subject: 'http://127.0.0.1:1/x' });
  });

  it.each([
    ['http://h/a/b.txt', 'b.txt'],
    ['http://h/a/dir/', 'dir'],
    ['http://h/', '__unnamed__'],
    ['http://h', '__unnamed__'],
    ['http://h/x%2Fy', 'y'],
  ])('names %s %s', (url, name) => {
    expect(urlFileName(url)).toBe(name);
  });
});
