/**
 * Secret values never reach any output: with every secret source holding a sentinel, no command
 * prints it, and no emitted file contains it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, drydock, tempDir } from './helpers.js';

const SENTINEL = 'sentinel-7f3a9c-do-not-print';

describe('secret values', () => {
  it('appear in no output of any command, nor in emitted files', async () => {
    const project = copyFixture('basic');
    const npmrc = join(tempDir(), 'npmrc');
    writeFileSync(npmrc, `//registry.example/:_authToken=${SENTINEL}-file\n`);
    writeFileSync(join(project, 'gh-token.txt'), `${SENTINEL}-command\n`);
    const env = { DRYDOCK_TEST_TOKEN: `${SENTINEL}-env`, DRYDOCK_TEST_NPMRC: npmrc };
    const out = join(tempDir(), 'emitted');

    const runs = [
      ['ls'],
      ['ls', '--json'],
      ['check'],
      ['graph'],
      ['graph', '-f', 'json'],
      ['graph', '-f', 'dot'],
      ['graph', '-f', 'mermaid'],
      ['emit', '-o', out],
    ];
    for (const args of runs) {
      const run = await drydock([...args, '-c', project], { env });
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
      expect(run.stdout + run.stderr, args.join(' ')).not.toContain(SENTINEL);
    }
    const emitted = (await drydock(['emit', '-o', out, '--check', '-c', project], { env })).stdout;
    expect(emitted).toMatch(/^ok/);
    for (const file of ['api.Dockerfile', 'web.Dockerfile', 'docker-bake.json']) {
      expect(readFileSync(join(out, file), 'utf8'), file).not.toContain(SENTINEL);
    }
    // The sources are named, so users know what to provide.
    const ls = (await drydock(['ls', '-c', project], { env })).stdout;
    expect(ls).toContain('DRYDOCK_TEST_TOKEN');
    expect(ls).toContain('DRYDOCK_TEST_NPMRC');
  });
});
