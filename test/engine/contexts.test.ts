/**
 * A build context read while another process changes it: a file the walk listed and that is gone
 * when its content is read (a concurrent build renaming its images.lock.json temp file into place)
 * is re-listed and left out, as a walk a moment later would have; a context that keeps changing
 * fails with an error naming the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ContextChangedError,
  digestSelection,
  Matcher,
  selectSources,
  walkContext,
} from '../../core/src/context/index.js';
import { RACY_MS } from '../../core/src/context/stat-cache.js';
import { BuildContext } from '../../core/src/engine/contexts.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'drydock-contexts-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Files changed this recently are not vouched for by a record or stat cache (stat-cache.ts RACY_MS). */
const pastRacyWindow = () => new Promise((r) => setTimeout(r, RACY_MS * 2));

/** A context opened with its walk record in `state` (a new directory: no record, so it is walked at once). */
function open(dir: string, state = mkdtempSync(join(tmpdir(), 'drydock-contexts-state-'))): Promise<BuildContext> {
  dirs.push(state);
  return BuildContext.open(dir, [], {
    statCache: join(state, 'stat-cache.json'),
    record: join(state, 'record.walk'),
    recordKey: 'test',
  });
}

const copyAll = { sources: ['.'], dest: '/app/' };

describe('a file removed between the walk and its read', () => {
  it('is a ContextChangedError from the digest, naming the file', async () => {
    const dir = project({ 'a.txt': 'a', 'images.lock.json.1a2b3c4d.tmp': '{}' });
    const index = await walkContext(dir, new Matcher([]));
    rmSync(join(dir, 'images.lock.json.1a2b3c4d.tmp'));
    const failure = digestSelection(dir, selectSources(index, copyAll), undefined, index);
    await expect(failure).rejects.toBeInstanceOf(ContextChangedError);
    await expect(failure).rejects.toThrow(
      `the build context ${dir} changed while the build read it: images.lock.json.1a2b3c4d.tmp was removed`,
    );
  });

  it('is left out of the selection and its digest, as a fresh walk leaves it out', async () => {
    const dir = project({ 'a.txt': 'a', 'images.lock.json': '{}', 'images.lock.json.1a2b3c4d.tmp': '{}' });
    const ctx = await open(dir);
    rmSync(join(dir, 'images.lock.json.1a2b3c4d.tmp'));
    const selected = await ctx.select('copy all', (index) => selectSources(index, copyAll));
    const fresh = await (await open(dir)).select('copy all', (index) => selectSources(index, copyAll));
    expect(selected.digest).toBe(fresh.digest);
    expect((await selected.selection()).map((e) => e.src).sort()).toEqual(['', 'a.txt', 'images.lock.json']);
  });
});

describe('a context that keeps changing under a selection', () => {
  it('fails after a few attempts with the error naming the file', async () => {
    const dir = project({ 'a.txt': 'a' });
    const ctx = await open(dir);
    let selections = 0;
    // Every selection names a file that is never there when read.
    const failure = ctx.select('flaky', (index) => {
      selections++;
      const [entry] = selectSources(index, { sources: ['a.txt'], dest: '/a.txt' });
      return [{ ...entry!, src: 'vanishing.txt' }];
    });
    await expect(failure).rejects.toThrow(`${dir} changed while the build read it: vanishing.txt was removed`);
    expect(selections).toBe(3);
  });
});

describe('a context trusted from its walk record', () => {
  it('gives the recorded selection when its step runs and nothing changed', async () => {
    const dir = project({ 'a.txt': 'a', 'b.txt': 'b' });
    await pastRacyWindow();
    const state = mkdtempSync(join(tmpdir(), 'drydock-contexts-state-'));
    const first = await open(dir, state);
    const digest = (await first.select('copy all', (index) => selectSources(index, copyAll))).digest;
    await first.save();
    const trusted = await open(dir, state);
    const selected = await trusted.select('copy all', (index) => selectSources(index, copyAll));
    expect(selected.digest).toBe(digest);
    expect((await selected.selection()).map((e) => e.src).sort()).toEqual(['', 'a.txt', 'b.txt']);
  });

  it('fails the step instead of copying files other than the recorded ones under the recorded digest', async () => {
    const dir = project({ 'a.txt': 'a', 'b.txt': 'b' });
    await pastRacyWindow();
    const state = mkdtempSync(join(tmpdir(), 'drydock-contexts-state-'));
    const first = await open(dir, state);
    await first.select('copy all', (index) => selectSources(index, copyAll));
    await first.save();
    const trusted = await open(dir, state);
    const selected = await trusted.select('copy all', (index) => selectSources(index, copyAll));
    // Edited after the build checked the record, before its COPY ran.
    writeFileSync(join(dir, 'b.txt'), 'B');
    await expect(selected.selection()).rejects.toThrow(
      `the build context ${dir} changed while the build read it: its files differ from when the build checked them`,
    );
  });
});
