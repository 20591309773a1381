/** `drydock ls`: images, stages, args and secrets, as tables or JSON. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drydock, fixtures } from './helpers.js';

const basic = join(fixtures, 'basic');

describe.concurrent('drydock ls', () => {
  it('lists images with tags, target, context and stages; args with type, allowed values, default, value', async () => {
    const run = await drydock(['ls', '-c', basic]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [images, args, secrets] = run.stdout
      .trimEnd()
      .split('\n\n')
      .map((t) => t.split('\n'));
    expect(images![0]).toMatch(/^IMAGE +TARGET +CONTEXT +TAGS +STAGES +DESCRIPTION$/);
    expect(images![1]).toMatch(
      /^api +runtime +api +localhost:5000\/api:dev, localhost:5000\/api:latest +deps, build, runtime +the API server$/,
    );
    expect(images![2]).toMatch(/^web +web +web +localhost:5000\/web:dev +web$/);
    expect(args![0]).toMatch(/^ARG +TYPE +ALLOWED +DEFAULT +VALUE +DESCRIPTION$/);
    expect(args![1]).toMatch(/^NODE_VERSION +enum +one of 20, 22 +22 +22 +Node\.js major version$/);
    expect(args![2]).toMatch(/^PORT +int +an integer from 1 to 65535 +8080 +8080 +port the api listens on$/);
    expect(args![3]).toMatch(/^REGION +string +a string matching \/\^\[a-z\]\+-\[0-9\]\$\/ +eu-1 +eu-1$/);
    expect(args![4]).toMatch(/^DEBUG +boolean +true or false +false +false$/);
    expect(secrets).toEqual([
      expect.stringMatching(/^SECRET +SOURCE +DESCRIPTION$/),
      expect.stringMatching(/^token +env DRYDOCK_TEST_TOKEN +API token for the build$/),
      expect.stringMatching(/^npmrc +file named by env DRYDOCK_TEST_NPMRC$/),
      expect.stringMatching(/^deploy +file secrets\/deploy-key$/),
      expect.stringMatching(/^gh +output of `cat gh-token\.txt`$/),
    ]);
  });

  it('shows --arg values as given', async () => {
    const run = await drydock(['ls', '-c', basic, '--arg', 'NODE_VERSION=20']);
    expect(run.stdout).toMatch(/^NODE_VERSION +enum +one of 20, 22 +22 +20 \(--arg\) /m);
  });

  it('--json carries the same, with structured bounds', async () => {
    const run = await drydock(['ls', '-c', basic, '--json', 'api']);
    expect(run.code).toBe(0);
    const list = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(list).toEqual({
      images: [
        {
          name: 'api',
          description: 'the API server',
          target: 'runtime',
          context: 'api',
          tags: ['localhost:5000/api:dev', 'localhost:5000/api:latest'],
          platforms: [],
          stages: ['deps', 'build', 'runtime'],
        },
      ],
      args: [
        {
          name: 'NODE_VERSION',
          type: 'enum',
          allowed: 'one of 20, 22',
          values: ['20', '22'],
          default: '22',
          value: '22',
          given: false,
          description: 'Node.js major version',
        },
        {
          name: 'PORT',
          type: 'int',
          allowed: 'an integer from 1 to 65535',
          min: 1,
          max: 65535,
          default: '8080',
          value: '8080',
          given: false,
          description: 'port the api listens on',
        },
        {
          name: 'REGION',
          type: 'string',
          allowed: 'a string matching /^[a-z]+-[0-9]$/',
          pattern: '^[a-z]+-[0-9]$',
          default: 'eu-1',
          value: 'eu-1',
          given: false,
        },
        { name: 'DEBUG', type: 'boolean', allowed: 'true or false', default: 'false', value: 'false', given: false },
      ],
      secrets: [
        { id: 'token', source: 'env', from: 'DRYDOCK_TEST_TOKEN', description: 'API token for the build' },
        { id: 'npmrc', source: 'file-env', from: 'DRYDOCK_TEST_NPMRC' },
        { id: 'deploy', source: 'file', from: 'secrets/deploy-key' },
        { id: 'gh', source: 'command', from: 'cat gh-token.txt' },
      ],
    });
  });

  it('IMAGE arguments select images', async () => {
    const run = await drydock(['ls', '-c', basic, 'web']);
    expect(run.stdout).toMatch(/^web /m);
    expect(run.stdout).not.toMatch(/^api /m);
  });
});
