// Shared by the config tests: fixture paths, source lines, and the diagnostics a promise rejects with.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiagnosticError, type AnyConfig, type Diagnostic, type StageDef } from '@drydock/core';
import { expect } from 'vitest';

export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixture(...parts: string[]): string {
  return [fixtures.replace(/\/$/, ''), ...parts].join('/');
}

/** The 1-based line of the only line of `file` containing `needle` (or matching it). */
export function lineOf(file: string, needle: string | RegExp): number {
  const lines = readFileSync(file, 'utf8').split('\n');
  const has = (l: string) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l));
  const hits = lines.flatMap((l, i) => (has(l) ? [i + 1] : []));
  expect(hits, `${needle} in ${file}`).toHaveLength(1);
  return hits[0]!;
}

/** The diagnostics `promise` rejects with; fails the test if it resolves or throws anything else. */
export async function rejection(promise: Promise<unknown>): Promise<readonly Diagnostic[]> {
  const thrown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown).toBeInstanceOf(DiagnosticError);
  return (thrown as DiagnosticError).diagnostics;
}

type Stages = Record<string, StageDef>;

/** The stages of a multi-stage image, calling the stages function as the compiler would. */
export function stagesOf(config: AnyConfig, image: string): Stages {
  const def = config.images[image] as { stages: Stages | (() => Stages) };
  return typeof def.stages === 'function' ? def.stages() : def.stages;
}

/** The one stage of a single-stage image. */
export function singleStageOf(config: AnyConfig, image: string): StageDef {
  return (config.images[image] as { stage: StageDef }).stage;
}
