/**
 * Every example commits its emitted files under `dockerfiles/` (so anyone can build it with BuildKit
 * alone). They must be exactly what `drydock emit` writes today: `emit --check` is the CI gate.
 * After changing an example or the emitter, run `npx drydock emit -c examples/<name>` and review the diff.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, drydock } from '../e2e/helpers.js';

const examples = (await readdir(join(ROOT, 'examples'), { withFileTypes: true }))
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'examples', d.name, 'images.config.ts')))
  .map((d) => d.name)
  .sort();

describe.each(examples)('examples/%s/dockerfiles', (name) => {
  it('is committed and up to date (drydock emit --check)', async () => {
    expect(existsSync(join(ROOT, 'examples', name, 'dockerfiles', 'docker-bake.json'))).toBe(true);
    const r = await drydock(['emit', '--check', '-c', `examples/${name}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: \d+ files in examples\/.+\/dockerfiles are up to date\n$/);
  });
});
