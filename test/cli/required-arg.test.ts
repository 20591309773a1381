/** A required arg (no default) is only needed by commands that use its value. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, drydock } from './helpers.js';

describe('a required arg without a value', () => {
  it('emits a bare ARG that docker build --build-arg supplies', async () => {
    const dir = copyFixture('required-arg');
    const r = await drydock(['emit', '-c', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const dockerfile = readFileSync(join(dir, 'dockerfiles', 'pkg.Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG RELEASE$/m);
    expect(dockerfile).toContain('RUN echo ${RELEASE} > /release');
  });

  it('is listed by ls and printed by graph', async () => {
    const dir = copyFixture('required-arg');
    const ls = await drydock(['ls', '-c', dir]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain('RELEASE');
    expect((await drydock(['graph', '-c', dir])).code).toBe(0);
  });

  it('is an error for check, naming the flag to pass, until given', async () => {
    const dir = copyFixture('required-arg');
    const missing = await drydock(['check', '-c', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error DD132: .*RELEASE.*--arg RELEASE=/);
    expect((await drydock(['check', '-c', dir, '--arg', 'RELEASE=v2'])).code).toBe(0);
  });
});
