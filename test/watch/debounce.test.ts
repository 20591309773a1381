/**
 * The debouncer: one event fires after a short quiet period; a burst fires once, with every path,
 * after a quiet period that grows with the burst; a burst that never goes quiet fires at its cap.
 * Timers are vitest's fake ones: this is the schedule itself, not a measurement.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Debouncer } from '../../core/src/watch/debounce.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function recorder(): { fired: string[][]; debouncer: Debouncer } {
  const fired: string[][] = [];
  return { fired, debouncer: new Debouncer((paths) => fired.push([...paths].sort())) };
}

describe('Debouncer (defaults)', () => {
  it('fires one save 5 ms after it, not before', () => {
    const { fired, debouncer } = recorder();
    debouncer.push('/p/a.ts');
    vi.advanceTimersByTime(4);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([['/p/a.ts']]);
  });

  it('makes one burst of an atomic save (write, rename, a second event for the same path)', () => {
    const { fired, debouncer } = recorder();
    debouncer.push('/p/.a.ts.swp');
    vi.advanceTimersByTime(1);
    debouncer.push('/p/a.ts');
    vi.advanceTimersByTime(1);
    debouncer.push('/p/a.ts');
    vi.advanceTimersByTime(20);
    expect(fired).toEqual([['/p/.a.ts.swp', '/p/a.ts']]);
  });

  it('waits longer as a burst grows: 200 files 3 ms apart are one build', () => {
    const { fired, debouncer } = recorder();
    for (let i = 0; i < 200; i++) {
      debouncer.push(`/p/f${i}`);
      vi.advanceTimersByTime(3);
    }
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toHaveLength(200);
  });

  it('fires a burst that never goes quiet after 1 s, and starts a new one after it', () => {
    const { fired, debouncer } = recorder();
    for (let t = 0; t < 1500; t += 4) {
      debouncer.push(`/p/f${t}`);
      vi.advanceTimersByTime(4);
    }
    expect(fired.length).toBeGreaterThanOrEqual(1);
    expect(fired[0]!.length).toBe(250); // the events of the first second
    vi.advanceTimersByTime(200);
    expect(fired.flat()).toHaveLength(375);
  });
});
