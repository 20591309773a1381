/**
 * The history entries' Go formatting (engine/history.ts), where docker 20.10's BuildKit prints Go
 * values. Whole entries are compared with BuildKit's own in the equivalence tests (compare.ts).
 */
import { describe, expect, it } from 'vitest';
import { goDuration } from '../../core/src/engine/history.js';

describe("a HEALTHCHECK duration, as Go's time.Duration prints it", () => {
  it.each([
    [0, '0s'],
    [5e9, '5s'],
    [90e9, '1m30s'],
    [1.5e9, '1.5s'],
    [3.6e12, '1h0m0s'],
    [2 * 3.6e12 + 3 * 6e10 + 4.005e9, '2h3m4.005s'],
    [500e6, '500ms'],
    [1.5e6, '1.5ms'],
    [2500, '2.5µs'],
    [7, '7ns'],
  ])('%d ns is %s', (ns, text) => {
    expect(goDuration(ns)).toBe(text);
  });
});
