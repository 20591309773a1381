/**
 * The engine applies exactly the patterns of the emitted `<image>.Dockerfile.dockerignore` (the
 * file BuildKit reads instead of the context's .dockerignore): the context's file, then the
 * config's `ignore` patterns.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextError, ignorePatterns, parseDockerignore } from '../../core/src/context/index.js';
import { emitDockerignore } from '../../core/src/dockerfile/dockerignore.js';
import type { ImageGraph } from '../../core/src/graph/types.js';

let ctx: string;

beforeAll(async () => {
  ctx = await mkdtemp(join(tmpdir(), 'drydock-ignore-'));
});

afterAll(async () => {
  await rm(ctx, { recursive: true, force: true });
});

const image = (ignore: string[]) => ({ name: 'api', ignore }) as Pick<ImageGraph, 'name' | 'ignore'> as ImageGraph;

describe('ignorePatterns', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, ['dist', '!dist/keep']],
    ['node_modules\r\n# comment\r\n\r\n  *.log  \r\n!important.log\r\n\r\n', []],
    ['/abs/./x/\n!  y\nmac\rline\n', ['**/*.tmp', '!x/z', 'README.md']],
    ['', ['a']],
  ])('context .dockerignore %j + config %j = the emitted file', async (text, ignore) => {
    const file = join(ctx, '.dockerignore');
    await rm(file, { force: true });
    if (text !== undefined) await writeFile(file, text);
    const emitted = emitDockerignore(image(ignore), text);
    expect(await ignorePatterns(ctx, image(ignore))).toEqual(parseDockerignore(emitted));
  });

  it('keeps the order: the config patterns come last and win', async () => {
    await writeFile(join(ctx, '.dockerignore'), '*.log\n');
    expect(await ignorePatterns(ctx, image(['README.md', '!debug.log']))).toEqual(['*.log', 'README.md', '!debug.log']);
  });

  it('rejects a config pattern with a line break, as the emitter does', async () => {
    await expect(ignorePatterns(ctx, image(['a\nb']))).rejects.toThrow(ContextError);
    expect(() => emitDockerignore(image(['a\nb']), undefined)).toThrow();
  });
});
