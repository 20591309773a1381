/* global console */
// Builds the site into dist/ with Node's standard library only: copies src/, gives every file under
// assets/ a content hash in its name (app.css → app.3f2a1b9c.css) and rewrites the references in
// the HTML pages, so that the server can let browsers cache assets forever.
import { createHash } from 'node:crypto';
import { cp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const src = 'src';
const out = 'dist';
await rm(out, { recursive: true, force: true });
await cp(src, out, { recursive: true });

const renamed = new Map();
for (const name of await readdir(join(out, 'assets'))) {
  const hash = createHash('sha256')
    .update(await readFile(join(out, 'assets', name)))
    .digest('hex')
    .slice(0, 8);
  const hashed = name.replace(/(\.[^.]+)$/, `.${hash}$1`);
  await rename(join(out, 'assets', name), join(out, 'assets', hashed));
  renamed.set(`/assets/${name}`, `/assets/${hashed}`);
}
for (const page of (await readdir(out)).filter((f) => f.endsWith('.html'))) {
  let html = await readFile(join(out, page), 'utf8');
  for (const [from, to] of renamed) html = html.replaceAll(`"${from}"`, `"${to}"`);
  await writeFile(join(out, page), html);
}
console.log(`built ${out}/: ${[...renamed.values()].join(', ')}`);
