// locate() and withLocations(): finding the source line of a problem from its ConfigPath, in a
// config whose misspelt `from: 'buidl'` appears in two images.
import { readFileSync } from 'node:fs';
import { error, locate, withLocations } from '@drydock/core';
import { describe, expect, it } from 'vitest';
import { fixture, lineOf } from './helpers.js';

const file = fixture('bad-from', 'images.config.ts');
const lines = (needle: string | RegExp) => lineOf(file, needle);

/** The lines of every `from: 'buidl'` in the fixture, in source order: image "worker", then "api". */
function buidlLines(): number[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l, i) => (l.includes("from: 'buidl'") ? [i + 1] : []));
}

describe('locate', () => {
  it("finds `from: 'buidl'` of the stage and image named, not an earlier one elsewhere", () => {
    const [worker, api] = buidlLines();
    expect(worker).toBeLessThan(api!);
    expect(locate(file, { image: 'api', stage: 'build', field: 'from', value: 'buidl' })).toEqual({
      file,
      line: api,
      column: 11,
    });
    expect(locate(file, { image: 'worker', stage: 'build', field: 'from', value: 'buidl' })?.line).toBe(worker);
  });

  it('finds a field inside options of a step', () => {
    expect(locate(file, { image: 'api', stage: 'build', field: 'from', value: 'deps' })?.line).toBe(
      lines("copy('.', '/app', { from: 'deps' })"),
    );
  });

  it('falls back to the stage, then to the image (skipping a label named like a stage)', () => {
    expect(locate(file, { image: 'api', stage: 'build', field: 'from', value: 'nope' })?.line).toBe(
      lines(/^\s*build: \{$/),
    );
    expect(locate(file, { image: 'api', stage: 'build' })?.line).toBe(lines(/^\s*build: \{$/));
    expect(locate(file, { image: 'api', stage: 'nope' })?.line).toBe(lines('api: {'));
    expect(locate(file, { image: 'nope' })).toBeUndefined();
    expect(locate(file, {})).toBeUndefined();
  });

  it("finds a single-stage image's stage under its own name", () => {
    expect(locate(file, { image: 'solo', stage: 'solo', field: 'user' })?.line).toBe(lines("user: 'nobody'"));
    expect(locate(file, { image: 'solo', stage: 'solo' })?.line).toBe(lines("stage: { from: 'busybox:1.36'"));
  });

  it('finds a key of the object written for a field (a declared secret)', () => {
    expect(locate(file, { field: 'secrets', value: 'npm' })?.line).toBe(lines("npm: secret.env('NPM_TOKEN')"));
  });

  it('gives undefined for a file that cannot be read', () => {
    expect(locate(fixture('bad-from', 'missing.ts'), { image: 'api' })).toBeUndefined();
  });
});

describe('withLocations', () => {
  it('fills loc of diagnostics with a path and no loc, and leaves the others alone', async () => {
    const located = error('DD110', 'unknown stage "buidl"', {
      path: { image: 'api', stage: 'build', field: 'from', value: 'buidl' },
    });
    const kept = error('DD110', 'already located', {
      loc: { file, line: 1, column: 1 },
      path: { image: 'api', stage: 'build', field: 'from', value: 'buidl' },
    });
    const bare = error('DD150', 'no path');
    const unknown = error('DD150', 'unknown image', { path: { image: 'nope' } });
    const out = await withLocations([located, kept, bare, unknown], file);
    expect(out.map((d) => d.loc?.line)).toEqual([buidlLines()[1], 1, undefined, undefined]);
    expect(out[0]).toMatchObject({ code: 'DD110', loc: { file } });
    expect(located.loc).toBeUndefined(); // not mutated
  });
});
