// Call sites: a step made at line N of a loaded config has loc.line === N in that file, although
// the config runs as esbuild's output against the built library (node_modules/drydock → dist).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, run } from '@drydock/core';
import { describe, expect, it } from 'vitest';
import { fixture, lineOf, singleStageOf, stagesOf } from './helpers.js';

/** Runs `fn` with no stack formatter installed, as in the CLI (vitest installs its own). */
async function withoutFormatter<T>(fn: () => T | Promise<T>): Promise<T> {
  const errors = Error as { prepareStackTrace?: unknown };
  const saved = errors.prepareStackTrace;
  errors.prepareStackTrace = undefined;
  try {
    return await fn();
  } finally {
    errors.prepareStackTrace = saved;
  }
}

describe('call sites of steps in a loaded config', () => {
  it('are the .ts lines of the config, in the config file', async () => {
    const { config, file } = await loadConfig(fixture('basic'));
    const [runStep, copyStep] = stagesOf(config, 'app').build!.steps!;
    const line = lineOf(file, "run('echo basic')");
    const column = readFileSync(file, 'utf8').split('\n')[line - 1]!.indexOf("run('echo basic')") + 1;
    expect(runStep!.loc).toEqual({ file, line, column });
    expect(copyStep!.loc).toMatchObject({ file, line: lineOf(file, "copy('src', '/src')") });
  });

  it('are in the helper module for steps a local helper makes', async () => {
    const { config } = await loadConfig(fixture('basic'));
    const helper = fixture('basic', 'lib', 'steps.ts');
    expect(stagesOf(config, 'app').build!.steps![2]!.loc).toMatchObject({
      file: helper,
      line: lineOf(helper, 'return run('),
    });
  });

  it('are right for stage functions the compiler calls after loading', async () => {
    const { config, file } = await loadConfig(fixture('basic'));
    const expected = { file, line: lineOf(file, "run('echo late')") };
    expect(stagesOf(config, 'late').main!.steps![0]!.loc).toMatchObject(expected);
    // Also with Node's own stack formatter, as when the CLI runs.
    expect((await withoutFormatter(() => stagesOf(config, 'late'))).main!.steps![0]!.loc).toMatchObject(expected);
  });

  it('are right when the config loads with no stack formatter installed', async () => {
    const loaded = await withoutFormatter(() => loadConfig(fixture('basic')));
    const file = loaded.file;
    expect(stagesOf(loaded.config, 'app').build!.steps![0]!.loc).toMatchObject({
      file,
      line: lineOf(file, "run('echo basic')"),
    });
  });

  it('are right in .mts and .js configs', async () => {
    for (const name of ['mts', 'js']) {
      const { config, file } = await loadConfig(fixture(name));
      expect(singleStageOf(config, name).steps![0]!.loc, name).toMatchObject({
        file,
        line: lineOf(file, 'steps: [run('),
      });
    }
  });

  it('still name the caller for DSL calls outside loaded configs (here, this test file)', () => {
    const step = run('echo here');
    const self = fileURLToPath(import.meta.url);
    expect(step.loc).toMatchObject({ file: self, line: lineOf(self, "run('echo " + "here')") });
  });
});
