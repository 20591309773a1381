// Proves the test bench from test/env/setup.sh is real: registries answer,
// dockerd resolves `FROM busybox` offline through the 127.0.0.1:5000 mirror
// (also with BuildKit), and the seeded base images actually run.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const DOCKER = '/usr/bin/docker'; // the engine's own client (BuildKit built in)
const REG = '127.0.0.1:5000';
const AUTH_REG = '127.0.0.1:5001';
const TLS_REG = '127.0.0.1:5002';
const TEST_CA = '/var/lib/drydock-test/tls/ca.pem';
const ARCH = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
const LONG = 180_000;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

const created: string[] = [];
const tmpDirs: string[] = [];

afterAll(() => {
  for (const image of created) spawnSync(DOCKER, ['rmi', '-f', image], { encoding: 'utf8' });
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

describe('test bench (test/env/setup.sh)', () => {
  it(`registry ${REG} serves library/busybox:latest for linux/${ARCH}`, () => {
    const out = execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${REG}/library/busybox:latest`], {
      encoding: 'utf8',
    });
    const info = JSON.parse(out) as { Os: string; Architecture: string; RepoTags: string[] };
    expect(info.Os).toBe('linux');
    expect(info.Architecture).toBe(ARCH);
    expect(info.RepoTags).toEqual(expect.arrayContaining(['latest', '1.35']));
  });

  it(
    'BuildKit builds FROM busybox offline through the mirror and the image runs',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'drydock-bench-'));
      tmpDirs.push(dir);
      writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN echo built > /built.txt\nCMD ["cat","/built.txt"]\n');
      const tag = `drydock-bench-probe:${process.pid}-${Date.now()}`;
      created.push(tag);
      // --pull makes BuildKit resolve busybox from the registry (the mirror)
      // even when dockerd already has it; offline, docker.io itself would fail.
      run(DOCKER, ['build', '--pull', '--no-cache', '--progress=plain', '-t', tag, dir], {
        DOCKER_BUILDKIT: '1',
      });
      expect(run(DOCKER, ['run', '--rm', tag]).trim()).toBe('built');
    },
    LONG,
  );

  it(
    'node:20-slim pulls through the mirror and runs node',
    () => {
      run(DOCKER, ['pull', '-q', 'node:20-slim']);
      const out = run(DOCKER, ['run', '--rm', 'node:20-slim', 'node', '-e', 'console.log(1+1)']);
      expect(out.trim()).toBe('2');
    },
    LONG,
  );

  it(
    'debian:bookworm-slim pulls through the mirror and is Debian 12',
    () => {
      run(DOCKER, ['pull', '-q', 'debian:bookworm-slim']);
      const out = run(DOCKER, ['run', '--rm', 'debian:bookworm-slim', 'cat', '/etc/debian_version']);
      expect(out.trim()).toMatch(/^12/);
    },
    LONG,
  );

  it(
    'python:3.11-slim pulls through the mirror: python 3.11, pip and venv run, as in the official image',
    () => {
      run(DOCKER, ['pull', '-q', 'python:3.11-slim']);
      const script = 'python --version && python -m venv /tmp/venv && /tmp/venv/bin/pip --version && echo "$LANG"';
      const out = run(DOCKER, ['run', '--rm', 'python:3.11-slim', 'sh', '-c', script]);
      expect(out).toMatch(
        /^Python 3\.11\.\d+\npip [\d.]+ from \/tmp\/venv\/lib\/python3\.11\/site-packages\/pip .*\nC\.UTF-8\n$/,
      );
    },
    LONG,
  );

  it(
    'golang:1.19 pulls through the mirror and builds a static net/http binary with CGO_ENABLED=0',
    () => {
      run(DOCKER, ['pull', '-q', 'golang:1.19']);
      const script = [
        'cd /go/src && go mod init probe >/dev/null 2>&1',
        'printf \'package main\\nimport ("fmt"; "net/http")\\nfunc main() { fmt.Println(http.StatusText(200)) }\\n\' > main.go',
        'CGO_ENABLED=0 go build -o /go/bin/probe . && probe && go env GOPATH GOROOT',
        '{ ldd /go/bin/probe 2>&1 || true; }',
      ].join(' && ');
      const out = run(DOCKER, ['run', '--rm', 'golang:1.19', 'bash', '-c', script]);
      expect(out).toMatch(/^OK\n\/go\n\/usr\/lib\/go-1\.19\n\s*not a dynamic executable\n$/);
    },
    LONG,
  );

  it(`registry ${AUTH_REG} requires basic auth (drydock / drydock-test-pw)`, async () => {
    const url = `http://${AUTH_REG}/v2/`;
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate') ?? '').toMatch(/^Basic /);
    const wrong = await fetch(url, {
      headers: { Authorization: `Basic ${Buffer.from('drydock:wrong').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const authed = await fetch(url, {
      headers: {
        Authorization: `Basic ${Buffer.from('drydock:drydock-test-pw').toString('base64')}`,
      },
    });
    expect(authed.status).toBe(200);
  });

  it(`registry ${TLS_REG} speaks TLS that only the test CA vouches for, and proxies ${REG}`, () => {
    const url = `https://${TLS_REG}/v2/library/busybox/tags/list`;
    const untrusted = spawnSync('curl', ['-fsS', '--max-time', '10', url], { encoding: 'utf8' });
    expect(untrusted.status).toBe(60); // curl: peer certificate cannot be authenticated
    const tags = JSON.parse(run('curl', ['-fsS', '--max-time', '10', '--cacert', TEST_CA, url])) as { tags: string[] };
    expect(tags.tags).toContain('latest');
  });
});
