/**
 * mountOverlay: a stage's layers with a fresh upperdir. Volatile on kernels that have the option
 * (5.10+), so that unmounting does not flush the whole upper file system; writes still land in the
 * upperdir, which is all a step's layer is made from. Any number of layers overlayfs can stack,
 * though mount options hold one page.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

  it('mounts a chain of lowerdirs longer than mount options can name (a page), top first', async () => {
    const chain = join(tmp, 'chain');
    // ~110 bytes a path: 150 of them are four times the page.
    const lowerdirs = Array.from({ length: 150 }, (_, i) =>
      join(chain, `layer-${String(i).padStart(3, '0')}-${'x'.repeat(60)}`),
    );
    expect(lowerdirs.join(':').length).toBeGreaterThan(4 * 4096);
    lowerdirs.forEach((dir, i) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `only-${i}`), `${i}\n`);
      writeFileSync(join(dir, 'shared'), `${i}\n`);
    });
    const [upper, work, merged] = ['chain-upper', 'chain-work', 'chain-merged'].map((d) => join(tmp, d));
    for (const d of [upper, work, merged]) mkdirSync(d!);
    await mountOverlay({ lowerdirs, upperdir: upper!, workdir: work!, target: merged! });
    try {
      expect(readdirSync(merged!)).toHaveLength(151);
      // The first lowerdir is the top layer; the last one's own file shows through.
      expect(readFileSync(join(merged!, 'shared'), 'utf8')).toBe('0\n');
      expect(readFileSync(join(merged!, 'only-149'), 'utf8')).toBe('149\n');
      // The short names it was mounted through are gone; the mount stands without them.
      expect(existsSync(`${work}.lowers`)).toBe(false);
      writeFileSync(join(merged!, 'made'), 'by the step\n');
    } finally {
      await unmount(merged!);
    }
    expect(readdirSync(upper!)).toEqual(['made']);
  });

  it('refuses more lowerdirs than overlayfs stacks, naming the limit', async () => {
    const lowerdirs = Array.from({ length: 501 }, (_, i) => join(tmp, `x${i}`));
    await expect(
      mountOverlay({ lowerdirs, upperdir: join(tmp, 'u'), workdir: join(tmp, 'w'), target: join(tmp, 'm') }),
    ).rejects.toThrow('501 layers to mount: overlayfs stacks at most 500');
  });
});
