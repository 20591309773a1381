/** `drydock emit`: writes Dockerfiles, ignore files and a bake file; `--check` compares without writing. */
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, drydock, errorLines, fixtures, tempDir } from './helpers.js';

const files = [
  'api.Dockerfile',
  'api.Dockerfile.dockerignore',
  'web.Dockerfile',
  'web.Dockerfile.dockerignore',
  'docker-bake.json',
];

describe.concurrent('drydock emit', () => {
  it('writes to dockerfiles/ next to the config by default and prints the paths it wrote', async () => {
    const project = copyFixture('basic');
    const run = await drydock(['emit'], { cwd: project });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n').sort()).toEqual(files.map((f) => `dockerfiles/${f}`).sort());
    expect(readdirSync(join(project, 'dockerfiles')).sort()).toEqual([...files].sort());
    expect(readFileSync(join(project, 'dockerfiles/api.Dockerfile'), 'utf8')).toMatch(
      /^FROM node:\$\{NODE_VERSION\}-slim AS deps$/m,
    );
    const bake = JSON.parse(readFileSync(join(project, 'dockerfiles/docker-bake.json'), 'utf8')) as { target: object };
    expect(Object.keys(bake.target)).toEqual(['api', 'web']);
  });

  it('the default is next to the config, wherever drydock runs from; printed paths are relative to the cwd', async () => {
    const project = copyFixture('basic');
    const run = await drydock(['emit', '-c', join(project, 'images.config.ts')], { cwd: join(project, 'api') });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('../dockerfiles/api.Dockerfile\n');
    expect(existsSync(join(project, 'dockerfiles/docker-bake.json'))).toBe(true);
  });

  it('-o DIR writes there; a second emit writes nothing and says so', async () => {
    const out = join(tempDir(), 'out');
    const first = await drydock(['emit', '-c', join(fixtures, 'basic'), '-o', out]);
    expect(first.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([...files].sort());
    const second = await drydock(['emit', '-c', join(fixtures, 'basic'), '--out-dir', out]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(/5 files in .*out are up to date/);
  });

  it('--check exits 0 after emit, and 1 naming each file edited or deleted since, writing nothing', async () => {
    const project = copyFixture('basic');
    expect((await drydock(['emit'], { cwd: project })).code).toBe(0);
    const clean = await drydock(['emit', '--check'], { cwd: project });
    expect(clean).toEqual({ code: 0, stdout: 'ok: 5 files in dockerfiles are up to date\n', stderr: '' });

    appendFileSync(join(project, 'dockerfiles/api.Dockerfile'), '# edited by hand\n');
    rmSync(join(project, 'dockerfiles/web.Dockerfile.dockerignore'));
    const dirty = await drydock(['emit', '--check'], { cwd: project });
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toBe('');
    const lines = errorLines(dirty.stderr);
    expect(lines).toEqual([
      expect.stringMatching(/DD170: dockerfiles\/api\.Dockerfile differs/),
      expect.stringMatching(/DD170: dockerfiles\/web\.Dockerfile\.dockerignore is missing/),
    ]);
    expect(dirty.stderr).toContain('2 errors');
    expect(readFileSync(join(project, 'dockerfiles/api.Dockerfile'), 'utf8')).toContain('# edited by hand');
    expect(existsSync(join(project, 'dockerfiles/web.Dockerfile.dockerignore'))).toBe(false);
  });

  it('--check before any emit reports every file missing and creates nothing', async () => {
    const project = copyFixture('basic');
    const run = await drydock(['emit', '--check'], { cwd: project });
    expect(run.code).toBe(1);
    expect(errorLines(run.stderr)).toHaveLength(files.length);
    expect(existsSync(join(project, 'dockerfiles'))).toBe(false);
  });

  it('--check follows --arg values: a different default is a difference', async () => {
    const project = copyFixture('basic');
    expect((await drydock(['emit'], { cwd: project })).code).toBe(0);
    const run = await drydock(['emit', '--check', '--arg', 'NODE_VERSION=20'], { cwd: project });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/DD170: dockerfiles\/api\.Dockerfile differs/);
  });

  it('IMAGE arguments emit only those images', async () => {
    const out = join(tempDir(), 'out');
    const run = await drydock(['emit', 'web', '-c', join(fixtures, 'basic'), '-o', out]);
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['docker-bake.json', 'web.Dockerfile', 'web.Dockerfile.dockerignore']);
  });
});
