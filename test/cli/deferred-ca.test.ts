/**
 * NODE_EXTRA_CA_CERTS under the launcher (cli/bin/drydock): Node starts without parsing the file,
 * and drydock trusts it from its first TLS connection on. The registry is the bench's TLS one
 * (https://127.0.0.1:5002, test/env/setup.sh), whose certificate only the bench's test CA vouches for.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drydock, root, tempDir } from './helpers.js';

const TEST_CA = '/var/lib/drydock-test/tls/ca.pem';
const TLS_MIRROR = 'docker.io=https://127.0.0.1:5002';

/** A project whose only image is busybox: building it pulls through the mirror, runs nothing. */
function pullingProject(): string {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'images.config.ts'),
    [
      "import { defineConfig } from 'drydock';",
      'export default defineConfig({',
      "  images: { probe: { stage: () => ({ from: 'busybox:latest', cmd: ['true'] }) } },",
      '});',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('NODE_EXTRA_CA_CERTS', () => {
  it('is trusted for registry connections: a registry signed by that CA only is pulled from', async () => {
    const dir = pullingProject();
    const run = await drydock(['build', '-c', dir], {
      env: { NODE_EXTRA_CA_CERTS: TEST_CA, DRYDOCK_HOME: join(dir, 'home'), DRYDOCK_REGISTRY_MIRRORS: TLS_MIRROR },
    });
    expect(run.stderr).toContain('built 1 image');
    expect(run.code).toBe(0);
    const lock = JSON.parse(readFileSync(join(dir, 'images.lock.json'), 'utf8')) as object;
    expect(JSON.stringify(lock)).toMatch(/busybox:latest.*sha256:[0-9a-f]{64}/);
  });

  it('without that CA, the same build fails on the certificate', async () => {
    const dir = pullingProject();
    const run = await drydock(['build', '-c', dir], {
      env: { NODE_EXTRA_CA_CERTS: '', DRYDOCK_HOME: join(dir, 'home'), DRYDOCK_REGISTRY_MIRRORS: TLS_MIRROR },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/https:\/\/127\.0\.0\.1:5002: .*unable to verify the first certificate/);
  });

  it('is not parsed as node starts, yet the process and the processes it starts see it as it was', async () => {
    const dir = tempDir();
    const out = join(dir, 'seen.json');
    // A config is code run by drydock's process: it reports what that process was started with
    // (/proc/self/environ is the environment exec gave it), its process.env, and a child's.
    writeFileSync(
      join(dir, 'images.config.ts'),
      [
        "import { execFileSync } from 'node:child_process';",
        "import { readFileSync, writeFileSync } from 'node:fs';",
        "import { defineConfig } from 'drydock';",
        "const started = readFileSync('/proc/self/environ', 'utf8').split('\\0').map((e) => e.split('=')[0]);",
        'writeFileSync(process.env.SEEN_FILE!, JSON.stringify({',
        '  atStart: started.filter((name) => /^(NODE_EXTRA|DRYDOCK_DEFERRED)_CA_CERTS$/.test(name)),',
        '  env: process.env.NODE_EXTRA_CA_CERTS,',
        '  handoff: process.env.DRYDOCK_DEFERRED_CA_CERTS ?? null,',
        "  child: execFileSync('sh', ['-c', 'echo \"$NODE_EXTRA_CA_CERTS\"'], { encoding: 'utf8' }).trim(),",
        '}));',
        "export default defineConfig({ images: { x: { stage: () => ({ from: 'scratch' }) } } });",
        '',
      ].join('\n'),
    );
    const env = { NODE_EXTRA_CA_CERTS: TEST_CA, SEEN_FILE: out };
    const launched = await drydock(['ls', '-c', dir], { env });
    expect(launched.stderr).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
      atStart: ['DRYDOCK_DEFERRED_CA_CERTS'],
      env: TEST_CA,
      handoff: null,
      child: TEST_CA,
    });
    // Run as `node bin/drydock.cjs`, Node parses the file at start as usual.
    const direct = await drydock(['ls', '-c', dir], { env, entry: join(root, 'cli/bin/drydock.cjs') });
    expect(direct.stderr).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ atStart: ['NODE_EXTRA_CA_CERTS'], child: TEST_CA });
  });
});
