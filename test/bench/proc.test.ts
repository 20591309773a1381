/**
 * The benchmark's memory figure (bench/proc.ts): the peak RSS of a process tree, polled from /proc.
 * A child between fork and exec shows its parent's pages as its own RSS (shared copy-on-write):
 * counted, every spawn of a large process would look like twice its memory.
 */
import { describe, expect, it } from 'vitest';
import { run } from '../../bench/proc.js';

describe('the memory of a process tree', () => {
  it('counts a large process that starts many children once, not once more per fork', async () => {
    // 200 MB touched, then 40 children started one after the other; each fork copies the page tables
    // of 200 MB, which keeps the child unexec'd for milliseconds: the 1 ms poll sees many of them.
    const script = [
      "const { spawnSync } = require('node:child_process');",
      'const big = Buffer.alloc(200 * 1024 * 1024, 1);',
      "for (let i = 0; i < 40; i++) spawnSync('true');",
      'console.log(big.length);',
    ].join('\n');
    const r = await run(process.execPath, ['-e', script], { memoryIntervalMs: 1 });
    expect(r.code).toBe(0);
    const mb = (bytes: number) => bytes / 1024 / 1024;
    expect(mb(r.memory!.mainHwm)).toBeGreaterThan(200);
    expect(r.memory!.samples).toBeGreaterThan(20);
    // The tree is the parent and children that exec'd `true` (a few hundred KB each, one at a time).
    expect(mb(r.memory!.tree)).toBeLessThan(mb(r.memory!.mainHwm) + 10);
  });
});
