/**
 * mountOverlay: a stage's layers with a fresh upperdir. Volatile on kernels that have the option
 * (5.10+), so that unmounting does not flush the whole upper file system; writes still land in the
 * upperdir, which is all a step's layer is made from.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountOverlay, unmount } from '../../core/src/exec/overlay.js';
import { isRoot, removeDir, tempDir } from '../oci/helpers.js';

let tmp = '';
beforeAll(async () => {
  if (!isRoot()) throw new Error('test/exec/overlay.test.ts needs root (overlay mounts)');
  tmp = await tempDir('mount-overlay');
});
afterAll(() => removeDir(tmp));

/** The mount options /proc reports for `target`. */
function optionsOf(target: string): string[] {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === target);
  if (!line) throw new Error(`${target} is not mounted`);
  return line.split(' - ')[1]!.split(' ')[2]!.split(',');
}

const [major = 0, minor = 0] = release().split('.').map(Number);
const kernelHasVolatile = major > 5 || (major === 5 && minor >= 10);

describe('mountOverlay', () => {
  it(`mounts ${kernelHasVolatile ? 'volatile' : 'without volatile (kernel before 5.10)'}, and writes land in the upperdir`, async () => {
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((d) => join(tmp, d));
    for (const d of [lower, upper, work, merged]) mkdirSync(d!);
    writeFileSync(join(lower!, 'base'), 'from the layer\n');
    await mountOverlay({ lowerdirs: [lower!], upperdir: upper!, workdir: work!, target: merged! });
    try {
      // Newer kernels show it as fsync=volatile.
      const options = optionsOf(merged!);
      expect(options.includes('volatile') || options.includes('fsync=volatile')).toBe(kernelHasVolatile);
      expect(readFileSync(join(merged!, 'base'), 'utf8')).toBe('from the layer\n');
      writeFileSync(join(merged!, 'made'), 'by the step\n');
    } finally {
      await unmount(merged!);
    }
    expect(readFileSync(join(upper!, 'made'), 'utf8')).toBe('by the step\n');
  });
});
