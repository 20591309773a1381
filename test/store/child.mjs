// A second drydock process for the store tests: uses the BUILT store (core/dist) like a real CLI would.
// Usage: node child.mjs <command> <storeRoot> [args…]; protocol on stdout: one word per line.
import { Buffer } from 'node:buffer';
import process from 'node:process';
import { Readable } from 'node:stream';
import { setImmediate, setInterval } from 'node:timers';
import { mkdir, writeFile, link, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Store } from '../../core/dist/store/index.js';

const [command, root, ...args] = process.argv.slice(2);
const store = await Store.open({ root, lockStaleMs: 2000 });
const say = (word) => process.stdout.write(`${word}\n`);
// Hangs while keeping the process alive (a bare pending promise would let Node exit, releasing locks).
const never = () => new Promise(() => setInterval(() => {}, 1 << 30));
// Waits for the parent to write "go" so that several children start their work together.
const go = () =>
  new Promise((resolve) => {
    say('ready');
    process.stdin.once('data', () => {
      process.stdin.destroy();
      resolve();
    });
  });

// Fills a snapshot dir with a known tree: 20 files, a subdir, a hardlink and a symlink.
const fill = async (dir, slow) => {
  await mkdir(join(dir, 'sub'));
  for (let i = 0; i < 20; i++) {
    await writeFile(join(dir, 'sub', `f${i}`), `file ${i}\n`);
    if (slow) await new Promise((r) => setImmediate(r));
  }
  await link(join(dir, 'sub', 'f0'), join(dir, 'hard'));
  await symlink('sub/f1', join(dir, 'soft'));
};

if (command === 'snapshot') {
  const [id, log] = args;
  await go();
  const path = await store.ensureSnapshot(id, async (dir) => {
    await writeFile(log, `${process.pid}\n`, { flag: 'a' });
    await fill(dir, true);
  });
  say(`done ${path}`);
} else if (command === 'snapshot-hang') {
  const [id] = args;
  await store.ensureSnapshot(id, async (dir) => {
    await fill(dir, false);
    say('mid');
    await never();
  });
} else if (command === 'blob-hang') {
  // Streams 1 MiB chunks; after 8 MiB says "mid" and stalls forever without ending the stream.
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent === 8) {
        say('mid');
        return;
      }
      sent++;
      this.push(Buffer.alloc(1 << 20, sent));
    },
  });
  await store.putBlob(source);
} else if (command === 'blob') {
  const [size] = args;
  await go();
  const info = await store.putBlob(() => Readable.from([Buffer.alloc(Number(size), 7)]));
  say(`done ${info.digest}`);
} else if (command === 'lease-hang') {
  await store.withBuild(async () => {
    say('mid');
    await never();
  });
} else {
  throw new Error(`unknown command ${command}`);
}
