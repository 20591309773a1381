/**
 * ADD <url> without a checksum, against a real HTTP server that counts its requests: the URL is
 * fetched once per build (its digest is the step's cache key, and the step adds those very bytes),
 * the step is cached while the content stays the same, and a new content re-runs it and what follows.
 */
import { createServer, type Server } from 'node:http';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../core/src/store/index.js';
import { sandbox, type Sandbox } from './helpers.js';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/add-url', import.meta.url));

let box: Sandbox;
let server: Server;
let port = 0;
let body = 'first\n';
let requests = 0;

beforeAll(async () => {
  box = await sandbox(FIXTURE);
  server = createServer((_req, res) => {
    requests++;
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await box?.remove();
});

/** The last layer's /srv/copy.txt, read from the store through the image's manifest. */
async function copied(manifestDigest: string): Promise<string> {
  const store = await Store.open({ root: box.home });
  const manifest = JSON.parse(await text(store.readBlob(manifestDigest))) as { layers: { digest: string }[] };
  const { execFileSync } = await import('node:child_process');
  const last = store.blobPath(manifest.layers.at(-1)!.digest);
  return execFileSync('tar', ['-xzOf', last, 'srv/copy.txt'], { encoding: 'utf8' });
}

describe('ADD <url> without a checksum', () => {
  it('fetches the URL once and adds the bytes it hashed', async () => {
    const r = await box.build({ args: { PORT: String(port) } });
    expect(requests).toBe(1);
    expect(r.executed).toEqual(['fetched/fetched#1', 'fetched/fetched#2']);
    expect(await copied(r.images[0]!.manifestDigest)).toBe('first\n');
  });

  it('with the same content: fetched again to know it, nothing executed', async () => {
    const r = await box.build({ args: { PORT: String(port) } });
    expect(requests).toBe(2);
    expect(r.executed).toEqual([]);
  });

  it('with new content: the ADD and what follows run again', async () => {
    body = 'second\n';
    const r = await box.build({ args: { PORT: String(port) } });
    expect(requests).toBe(3);
    expect(r.executed).toEqual(['fetched/fetched#1', 'fetched/fetched#2']);
    expect(await copied(r.images[0]!.manifestDigest)).toBe('second\n');
  });
});
