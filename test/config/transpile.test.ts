// The compiled-config cache: an unchanged config is not compiled again, an edited one is, and a
// cache entry is keyed by content, so a stale one can never be used.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@drydock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const tmpRoot = fileURLToPath(new URL('../.tmp/', import.meta.url));
let home: string;
let project: string;
const saved = process.env.DRYDOCK_HOME;

beforeAll(() => {
  mkdirSync(tmpRoot, { recursive: true });
  home = mkdtempSync(path.join(tmpRoot, 'transpile-home-'));
  // Inside the repo, so the config resolves `drydock` from node_modules.
  project = mkdtempSync(path.join(tmpRoot, 'transpile-project-'));
  process.env.DRYDOCK_HOME = home;
});
afterAll(() => {
  if (saved === undefined) delete process.env.DRYDOCK_HOME;
  else process.env.DRYDOCK_HOME = saved;
  rmSync(home, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
});

const cached = (): string[] => readdirSync(path.join(home, 'v1', 'config-js')).sort();

function writeConfig(tag: string): void {
  writeFileSync(
    path.join(project, 'images.config.ts'),
    `import { defineConfig } from 'drydock';
import { base } from './base';
export default defineConfig({ images: { app: { stage: { from: base, cmd: ['${tag}'] as string[] } } } });
`,
  );
}

describe('compiled config cache', () => {
  it('compiles each local module once, and again only when its text changes', async () => {
    writeFileSync(path.join(project, 'base.ts'), `export const base: string = 'busybox:latest';\n`);
    writeConfig('one');
    const first = await loadConfig(project);
    expect(first.config.images.app).toMatchObject({ stage: { cmd: ['one'] } });
    const afterFirst = cached();
    expect(afterFirst).toHaveLength(2); // the config and base.ts

    const stamps = (): string[] =>
      cached().map((f) => {
        const st = statSync(path.join(home, 'v1', 'config-js', f));
        return `${f} ${st.ino} ${st.mtimeMs}`;
      });
    const written = stamps();
    await new Promise((r) => setTimeout(r, 20)); // a rewrite would now get another mtime
    await loadConfig(project);
    // Neither recompiled nor rewritten: the same files, untouched.
    expect(stamps()).toEqual(written);

    writeConfig('two');
    const edited = await loadConfig(project);
    expect(edited.config.images.app).toMatchObject({ stage: { cmd: ['two'] } });
    expect(cached()).toHaveLength(3); // base.ts unchanged: its entry is reused
  });

  it('a cache that cannot be written is only a slower load', async () => {
    rmSync(path.join(home, 'v1'), { recursive: true, force: true });
    writeFileSync(path.join(home, 'v1'), 'not a directory');
    try {
      writeConfig('three');
      const loaded = await loadConfig(project);
      expect(loaded.config.images.app).toMatchObject({ stage: { cmd: ['three'] } });
    } finally {
      rmSync(path.join(home, 'v1'), { force: true });
    }
  });
});
