/**
 * @drydock/preset-go: what it makes of a project (Go version from go.mod, the main package, the
 * module download step), how it rejects bad options, and the example app (examples/preset-go)
 * built natively and, from its emitted Dockerfile, by BuildKit: a static binary on scratch that
 * serves HTTP as uid 65532 on the declared port and finds CA certificates.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectFiles } from '@drydock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { go } from '../../presets/go/src/index.js';
import { docker, httpGet, ok, ROOT } from '../e2e/helpers.js';
import { FIXTURES, imageConfig, imageSize, plan, PresetBench, processUids, stage, thrown } from './preset-example.js';

const EXAMPLE = join(ROOT, 'examples/preset-go');
const fixture = (name: string) => join(FIXTURES, 'go', name);

describe('go preset: what it makes of a project', () => {
  it('detects go.mod, naming the module and its Go version; other projects are not Go', () => {
    expect(go.detect(projectFiles(EXAMPLE))).toEqual({ reason: 'go.mod (module example.com/preset-go, go 1.19)' });
    expect(go.detect(projectFiles(join(FIXTURES, 'python/uv-app')))).toBeUndefined();
  });

  it('system files in their own stage; modules downloaded before the source; a static build on scratch, as 65532', () => {
    const { dockerfile } = plan(go(), EXAMPLE);
    expect(stage(dockerfile, 'rootfs')).toEqual([
      'FROM golang:1.19 AS rootfs',
      expect.stringMatching(
        /^RUN mkdir -p \/rootfs\/etc\/ssl\/certs .* cp \/etc\/ssl\/certs\/ca-certificates\.crt \/rootfs\/etc\/ssl\/certs\/ .*nonroot:x:65532:65532:/,
      ),
    ]);
    expect(stage(dockerfile, 'build')).toEqual([
      'FROM golang:1.19 AS build',
      'WORKDIR /src',
      'ENV CGO_ENABLED=0',
      'COPY go.mod ./',
      'RUN --mount=type=cache,target=/go/pkg/mod go mod download',
      'COPY . ./',
      "RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build go build -trimpath -ldflags='-s -w' -o /out/preset-go .",
    ]);
    expect(stage(dockerfile, 'runtime')).toEqual([
      'FROM scratch AS runtime',
      'ENV PORT=8080',
      'COPY --from=rootfs /rootfs/ /',
      'COPY --from=build /out/preset-go /usr/local/bin/preset-go',
      'USER 65532:65532',
      'EXPOSE 8080',
      'ENTRYPOINT ["/usr/local/bin/preset-go"]',
    ]);
  });

  it('finds the only command under cmd/, takes the version from go.mod, copies go.sum, names the binary', () => {
    const { dockerfile } = plan(go(), fixture('cmd-app'));
    expect(dockerfile).toContain('FROM golang:1.21 AS build');
    expect(dockerfile).toContain('COPY go.mod go.sum ./');
    expect(dockerfile).toMatch(/go build -trimpath -ldflags='-s -w' -o \/out\/api \.\/cmd\/api\n/);
    expect(dockerfile).toContain('ENTRYPOINT ["/usr/local/bin/api"]');
  });

  it('options: main, binary, args, port, build, ldflags, buildTags, buildPackages and version', () => {
    const { dockerfile } = plan(
      go({
        version: '1.22',
        main: './cmd/worker',
        binary: 'worker',
        args: ['--queue', 'default'],
        port: 9090,
        build: 'go generate ./...',
        ldflags: '-s -w -X main.version=1.2.3',
        buildTags: ['timetzdata', 'netgo'],
        buildPackages: ['protobuf-compiler'],
      }),
      fixture('two-commands'),
    );
    const build = stage(dockerfile, 'build');
    expect(build[0]).toBe('FROM golang:1.22 AS build');
    expect(build[3]).toMatch(/^RUN apt-get update && apt-get install -y --no-install-recommends protobuf-compiler /);
    expect(build.at(-2)).toBe(
      'RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build go generate ./...',
    );
    expect(build.at(-1)).toMatch(
      /go build -trimpath -ldflags='-s -w -X main\.version=1\.2\.3' -tags timetzdata,netgo -o \/out\/worker \.\/cmd\/worker$/,
    );
    const runtime = stage(dockerfile, 'runtime');
    expect(runtime).toEqual(
      expect.arrayContaining(['ENV PORT=9090', 'EXPOSE 9090', 'ENTRYPOINT ["/usr/local/bin/worker"]']),
    );
    expect(runtime.at(-1)).toBe('CMD ["--queue", "default"]');
  });

  it('rejects bad options at the call, one line each naming the option and what is allowed', () => {
    const diagnostics = thrown(() =>
      go({ main: '../elsewhere', binary: 'a/b', ldflags: "-X 'a=b'", buildTags: ['a b'] }),
    );
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      [
        'DD160',
        'preset go: option "main" must be a package path inside the project starting with "." (e.g. "./cmd/api") (got "../elsewhere")',
      ],
      ['DD160', 'preset go: option "binary" must be a file name such as "api" (got "a/b")'],
      ['DD160', `preset go: option "ldflags" must be linker flags without quotes or newlines (got "-X 'a=b'")`],
      [
        'DD160',
        'preset go: option "buildTags" must be a list of build tags such as "timetzdata" or "netgo" (got ["a b"])',
      ],
    ]);
  });

  it('with several commands, or none, it names the candidates and the option to set', () => {
    const several = plan(go(), fixture('two-commands')).diagnostics;
    expect(several.map((d) => d.code)).toEqual(['DD101']);
    expect(several[0]!.message).toMatch(/candidates: \.\/cmd\/api, \.\/cmd\/worker\); set option "main"/);
    const none = plan(go(), fixture('library')).diagnostics;
    expect(none[0]!.message).toMatch(/no single main package .*none at the top or under cmd\/.*set option "main"/);
  });
});

describe('go example (examples/preset-go)', () => {
  const bench = new PresetBench();
  let dir: string;
  beforeAll(async () => {
    await bench.setup();
    dir = await bench.copy(EXAMPLE);
  });
  afterAll(() => bench.cleanup());

  it('built natively: a few MB on scratch, serving HTTP on the declared port as uid 65532, with CA certificates', async () => {
    const { tag } = await bench.native(dir, 'preset-go');
    const config = await imageConfig(tag);
    expect(config.User).toBe('65532:65532');
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(config.Entrypoint).toEqual(['/usr/local/bin/preset-go']);
    expect(await imageSize(tag)).toBeLessThan(15_000_000);

    const app = await bench.run(tag, 8080);
    const reply = await httpGet(`${app.url}/?name=drydock`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({
      service: 'preset-go',
      message: 'Hello, drydock!',
      go: expect.stringMatching(/^go1\.19/),
      uid: 65532,
      caCerts: expect.any(Number),
    });
    expect(JSON.parse(reply.body).caCerts).toBeGreaterThan(50);
    expect(await processUids(app.id)).toEqual([65532]);
    // Nothing but the program: no shell to exec.
    expect((await docker(['exec', app.id, 'sh', '-c', 'true'])).code).not.toBe(0);
  });

  it('an edit of main.go recompiles without downloading modules again', async () => {
    await bench.native(dir, 'preset-go'); // warm: same store
    const main = join(dir, 'main.go');
    await writeFile(
      main,
      (await readFile(main, 'utf8')).replace('"service": "preset-go"', '"service": "preset-go, edited"'),
    );
    const { tag, executed } = await bench.native(dir, 'preset-go');
    expect(executed).toEqual([
      'build: COPY . ./',
      expect.stringMatching(/^build: RUN .*go build /),
      'runtime: COPY --from=build /out/preset-go /usr/local/bin/preset-go',
    ]);
    const app = await bench.run(tag, 8080);
    expect(JSON.parse((await httpGet(`${app.url}/`)).body).service).toBe('preset-go, edited');
  });

  it('built by BuildKit from the emitted Dockerfile: the same service, user and port', async () => {
    const tag = await bench.buildkit(await bench.copy(EXAMPLE, 'preset-go-bk'), 'preset-go', 'preset-go');
    const config = await imageConfig(tag);
    expect(config.User).toBe('65532:65532');
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {} });
    const app = await bench.run(tag, 8080);
    expect(JSON.parse((await httpGet(`${app.url}/`)).body)).toMatchObject({ service: 'preset-go', uid: 65532 });
    expect(await processUids(app.id)).toEqual([65532]);
    ok('stop', await docker(['stop', '-t', '10', app.id]));
    // The program stopped on SIGTERM by itself, well before docker's 10 s would have killed it.
    const state = JSON.parse(ok('inspect', await docker(['inspect', '-f', '{{json .State}}', app.id])).stdout);
    expect(state.ExitCode).toBe(0);
  });
});
