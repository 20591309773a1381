/**
 * Secrets reach the RUN steps that mount them and nothing else: not a layer, the image config or
 * its history, a cache record, the stat cache, an output, nor anything drydock prints (RUN output
 * and failure messages have them masked). Every file is searched, gzip blobs decompressed.
 */
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drydock, exec } from '../e2e/helpers.js';
import { MIRROR_ENV, sandbox, type Sandbox } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/secrets', import.meta.url));
const TOKEN = 'dd-token-4f1e9a7c2b';
const KEY = 'dd-key-8d3b6e0a51';

/** Files under `dir` whose bytes (decompressed, for gzip) contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const target = Buffer.from(needle);
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
      return;
    }
    if (!st.isFile()) return;
    const head = Buffer.alloc(2);
    const fh = await open(path, 'r');
    await fh.read(head, 0, 2, 0);
    await fh.close();
    const gz = head[0] === 0x1f && head[1] === 0x8b;
    const stream = gz ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
    let carry = Buffer.alloc(0);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const window = Buffer.concat([carry, chunk]);
      if (window.includes(target)) {
        found.push(path);
        stream.destroy();
        return;
      }
      carry = window.subarray(Math.max(0, window.length - target.length));
    }
  };
  await visit(dir);
  return found;
}

describe('secrets', () => {
  let box: Sandbox;
  let env: NodeJS.ProcessEnv;
  let out: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    box = await sandbox(FIXTURE, 'drydock-secrets-');
    await writeFile(join(box.dir, 'key.txt'), KEY);
    env = { ...MIRROR_ENV, DRYDOCK_HOME: box.home, DD_TEST_TOKEN: TOKEN };
    out = await drydock(
      ['build', 'app', '-c', box.dir, '--progress', 'plain', '--output', `type=oci,dest=${join(box.dir, '..', 'oci')}`],
      { env },
    );
  }, 120_000);
  afterAll(async () => box?.remove());

  it('are mounted into the steps that ask for them, as a file and as an env var', async () => {
    expect(out.code).toBe(0);
    const bundle = join(box.dir, '..', 'bundle');
    const r = await exec('umoci', ['unpack', '--image', `${join(box.dir, '..', 'oci')}:latest`, bundle]);
    // The layout names the image by its tag: `latest` (app:latest, the config gives no tags).
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(join(bundle, 'rootfs/token-length'), 'utf8')).trim()).toBe(String(TOKEN.length));
    expect((await readFile(join(bundle, 'rootfs/key-length'), 'utf8')).trim()).toBe(String(KEY.length));
  });

  it('are masked in RUN output', () => {
    expect(out.stderr).toContain('key is ****');
    expect(out.stdout + out.stderr).not.toContain(TOKEN);
    expect(out.stdout + out.stderr).not.toContain(KEY);
  });

  it('never reach the store (blobs, cache records, snapshots, stat cache) nor the output', async () => {
    for (const value of [TOKEN, KEY]) {
      expect(await filesContaining(box.home, value)).toEqual([]);
      expect(await filesContaining(join(box.dir, '..', 'oci'), value)).toEqual([]);
    }
  });

  it('are masked in the message of a step that fails', async () => {
    const r = await drydock(['build', 'failing', '-c', box.dir], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('exited with code 3');
    expect(r.stderr).toContain('about to fail with ****');
    expect(r.stderr).not.toContain(TOKEN);
    expect(await filesContaining(box.home, TOKEN)).toEqual([]);
  });

  it('that are required but have no value fail the step with a one-line error naming them', async () => {
    const { DD_TEST_TOKEN: _unset, ...rest } = env;
    const r = await drydock(['build', 'app', '-c', box.dir, '--no-cache'], {
      env: { ...rest, DD_TEST_TOKEN: undefined },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/secret "token" is required by this RUN step but has no value/);
  });
});
