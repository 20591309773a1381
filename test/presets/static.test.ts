/**
 * @drydock/preset-static: what it makes of a project (a build from package.json, or a ready folder),
 * how it rejects bad options, and real images: the example (examples/preset-static, built with
 * npm and content-hashed assets) natively and, from its emitted Dockerfile, by BuildKit, and a
 * plain single-page site natively. The server answers as uid 65532 on the declared port with
 * content ETags, 304s and Cache-Control: no-cache for pages, a year for hashed assets.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectFiles } from '@drydock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_SOURCE, staticSite } from '../../presets/static/src/index.js';
import { docker, httpGet, ok, ROOT } from '../e2e/helpers.js';
import { FIXTURES, imageConfig, imageSize, plan, PresetBench, processUids, stage, thrown } from './preset-example.js';

const EXAMPLE = join(ROOT, 'examples/preset-static');
const fixture = (name: string) => join(FIXTURES, 'static', name);

describe('static preset: what it makes of a project', () => {
  it('detects a package.json that builds a site, or a folder with index.html; not a Node server', () => {
    expect(staticSite.detect(projectFiles(EXAMPLE))).toEqual({
      reason: 'package.json with a build script and no start script (npm, into dist/)',
    });
    expect(staticSite.detect(projectFiles(fixture('plain-site')))).toEqual({
      reason: 'public/index.html (a ready static site)',
    });
    expect(staticSite.detect(projectFiles(fixture('node-server')))).toBeUndefined();
    expect(staticSite.detect(projectFiles(join(FIXTURES, 'go/library')))).toBeUndefined();
  });

  it('the example: server compiled on its own, site built with npm, both copied onto scratch, run as 65532', () => {
    const { dockerfile } = plan(staticSite(), EXAMPLE);
    const server = stage(dockerfile, 'server');
    expect(server.slice(0, 3)).toEqual(['FROM golang:1.19 AS server', 'WORKDIR /src', 'ENV CGO_ENABLED=0']);
    expect(server[3]).toMatch(/^RUN printf '%s\\n' 'package main' .* > main\.go$/);
    expect(server[4]).toBe(
      "RUN --mount=type=cache,target=/root/.cache/go-build go build -trimpath -ldflags='-s -w' -o /out/static-server main.go",
    );
    expect(stage(dockerfile, 'build')).toEqual([
      'FROM node:20-slim AS build',
      'WORKDIR /app',
      'COPY package.json package-lock.json ./',
      'RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund',
      'COPY . ./',
      'RUN npm run build',
    ]);
    expect(stage(dockerfile, 'runtime')).toEqual([
      'FROM scratch AS runtime',
      'ENV PORT=8080 STATIC_ROOT=/site',
      'COPY --from=server /rootfs/ /',
      'COPY --from=server /out/static-server /usr/local/bin/static-server',
      'COPY --from=build /app/dist/ /site/',
      'USER 65532:65532',
      'EXPOSE 8080',
      'ENTRYPOINT ["/usr/local/bin/static-server"]',
    ]);
  });

  it('takes the package manager from the lockfile and the output folder from the framework', () => {
    const vite = plan(staticSite(), fixture('vite-app')).dockerfile;
    expect(stage(vite, 'build').slice(2)).toEqual([
      'COPY package.json pnpm-lock.yaml ./',
      'RUN --mount=type=cache,target=/root/.local/share/pnpm/store corepack enable && pnpm install --frozen-lockfile',
      'COPY . ./',
      'RUN pnpm run build',
    ]);
    expect(stage(vite, 'runtime')).toContain('COPY --from=build /app/dist/ /site/');
    const cra = plan(staticSite(), fixture('cra-app')).dockerfile;
    expect(stage(cra, 'build')).toContain(
      'RUN --mount=type=cache,target=/usr/local/share/.cache/yarn corepack enable && yarn install --frozen-lockfile',
    );
    expect(stage(cra, 'runtime')).toContain('COPY --from=build /app/build/ /site/');
  });

  it('Yarn 2+ with yarnPath in .yarnrc.yml: the release file is copied, to its own path, before the install', () => {
    const berry = plan(staticSite(), fixture('yarn-berry-app')).dockerfile;
    expect(stage(berry, 'build').slice(2)).toEqual([
      'COPY package.json yarn.lock .yarnrc.yml ./',
      'COPY .yarn/releases/yarn-4.5.0.cjs ./.yarn/releases/yarn-4.5.0.cjs',
      'RUN --mount=type=cache,target=/root/.yarn/berry/cache corepack enable && yarn install --immutable',
      'COPY . ./',
      'RUN yarn run build',
    ]);
  });

  it('a ready folder is copied from the project: no build stage at all', () => {
    const { dockerfile } = plan(staticSite({ spa: true }), fixture('plain-site'));
    expect(dockerfile).not.toMatch(/ AS build$/m);
    expect(stage(dockerfile, 'runtime')).toEqual(
      expect.arrayContaining(['ENV PORT=8080 STATIC_ROOT=/site STATIC_SPA=1', 'COPY public/ /site/']),
    );
  });

  it('options: dir, build, install, version, port and cache policy', () => {
    const { dockerfile } = plan(
      staticSite({
        build: 'npm run export',
        install: 'npm ci --ignore-scripts',
        dir: 'out/site',
        version: '22',
        port: 8443,
        cache: { default: 'public, max-age=60', immutable: 'public, max-age=600', immutablePaths: '^/static/' },
      }),
      EXAMPLE,
    );
    expect(stage(dockerfile, 'build')).toEqual(
      expect.arrayContaining([
        'FROM node:22-slim AS build',
        'RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts',
        'RUN npm run export',
      ]),
    );
    const runtime = stage(dockerfile, 'runtime');
    expect(runtime).toContain('COPY --from=build /app/out/site/ /site/');
    expect(runtime).toContain(
      'ENV PORT=8443 STATIC_ROOT=/site STATIC_CACHE="public, max-age=60" STATIC_IMMUTABLE_CACHE="public, max-age=600" STATIC_IMMUTABLE=^/static/',
    );
    expect(runtime).toContain('EXPOSE 8443');
    expect(plan(staticSite({ build: false, dir: 'src' }), EXAMPLE).dockerfile).toContain('COPY src/ /site/');
  });

  it('rejects bad options at the call, one line each naming the option and what is allowed', () => {
    const diagnostics = thrown(() =>
      staticSite({ dir: '../site', build: 'a\nb', spa: 'yes' as never, cache: { immutablePaths: '(' } }),
    );
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      [
        'DD160',
        'preset static: option "dir" must be a directory inside the project, such as "dist" or "public" (got "../site")',
      ],
      ['DD160', 'preset static: option "build" must be a one-line shell command, or false for no build (got "a\\nb")'],
      ['DD160', 'preset static: option "spa" must be true or false (got "yes")'],
      [
        'DD160',
        'preset static: option "cache" must be an object with default, immutable (Cache-Control values) and immutablePaths (a regular expression); cache.immutablePaths must be a regular expression (got { immutablePaths })',
      ],
    ]);
  });

  it('with nothing to serve it says where it looked and which options to set', () => {
    const { diagnostics } = plan(staticSite(), join(FIXTURES, 'go/library'));
    expect(diagnostics.map((d) => d.code)).toEqual(['DD101']);
    expect(diagnostics[0]!.message).toMatch(
      /preset static: no site in .*public\/, dist\/.*set option "dir" .* or "build"/,
    );
  });

  it("the server's source travels inside single quotes, so it has none of its own", () => {
    expect(SERVER_SOURCE).not.toContain("'");
  });
});

describe('static example (examples/preset-static) and a plain site', () => {
  const bench = new PresetBench();
  let dir: string;
  beforeAll(async () => {
    await bench.setup();
    dir = await bench.copy(EXAMPLE);
  });
  afterAll(() => bench.cleanup());

  it('built natively: pages revalidate by content ETag, hashed assets are cached a year, as uid 65532', async () => {
    const { tag } = await bench.native(dir, 'preset-static');
    const config = await imageConfig(tag);
    expect(config.User).toBe('65532:65532');
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(await imageSize(tag)).toBeLessThan(15_000_000);
    const app = await bench.run(tag, 8080);
    await expectCachingSite(app.url);
    expect(await processUids(app.id)).toEqual([65532]);
  });

  it('an edit of a page rebuilds the site only: the server is not compiled again', async () => {
    await bench.native(dir, 'preset-static'); // warm: same store
    const page = join(dir, 'src/index.html');
    await writeFile(page, (await readFile(page, 'utf8')).replace('<h1>Served', '<h1>Edited, served'));
    const { tag, executed } = await bench.native(dir, 'preset-static');
    expect(executed).toEqual([
      'build: COPY . ./',
      'build: RUN npm run build',
      'runtime: COPY --from=build /app/dist/ /site/',
    ]);
    const app = await bench.run(tag, 8080);
    expect((await httpGet(`${app.url}/`)).body).toContain('<h1>Edited, served');
  });

  it('a plain single-page site: /about finds about.html, /docs redirects to /docs/, unknown pages get index.html', async () => {
    const { tag } = await bench.native(await bench.copy(fixture('plain-site')), 'plain-site');
    expect((await imageConfig(tag)).ExposedPorts).toEqual({ '8081/tcp': {} });
    const app = await bench.run(tag, 8081);
    expect((await httpGet(`${app.url}/about`)).body).toContain('<h1>About</h1>');
    const docs = await fetch(`${app.url}/docs`, { redirect: 'manual' });
    expect([docs.status, docs.headers.get('location')]).toEqual([301, '/docs/']);
    expect((await httpGet(`${app.url}/docs/`)).body).toContain('<h1>Docs</h1>');
    const route = await httpGet(`${app.url}/some/client/route`);
    expect([route.status, route.body]).toEqual([200, expect.stringContaining('A plain site')]);
    const missing = await httpGet(`${app.url}/missing.png`);
    expect([missing.status, missing.body]).toEqual([404, expect.stringContaining('No such page')]);
    expect((await fetch(`${app.url}/README.md`)).status).toBe(404); // only public/ is served
  });

  it('built by BuildKit from the emitted Dockerfile: the same site, headers, user and port', async () => {
    const tag = await bench.buildkit(await bench.copy(EXAMPLE, 'preset-static-bk'), 'preset-static', 'preset-static');
    const config = await imageConfig(tag);
    expect(config.User).toBe('65532:65532');
    expect(config.ExposedPorts).toEqual({ '8080/tcp': {} });
    const app = await bench.run(tag, 8080);
    await expectCachingSite(app.url);
    expect(await processUids(app.id)).toEqual([65532]);
    ok('stop', await docker(['stop', '-t', '10', app.id]));
  });
});

/** The example site's caching: pages revalidated (ETag, 304), hashed assets immutable, a 404 page. */
async function expectCachingSite(url: string): Promise<void> {
  const first = await httpGet(`${url}/`);
  expect(first.status).toBe(200);
  const page = await fetch(`${url}/`);
  const body = await page.text();
  expect(body).toContain('<h1>Served by @drydock/preset-static</h1>');
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(page.headers.get('cache-control')).toBe('no-cache');
  expect(page.headers.get('last-modified')).toBeNull(); // layer file times say nothing about content
  const etag = page.headers.get('etag');
  expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
  const again = await fetch(`${url}/`, { headers: { 'If-None-Match': etag! } });
  expect(again.status).toBe(304);

  const css = /href="(\/assets\/app\.[0-9a-f]{8}\.css)"/.exec(body)?.[1];
  expect(css, 'the built page links a content-hashed stylesheet').toBeDefined();
  const asset = await fetch(`${url}${css}`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  expect(asset.headers.get('content-type')).toBe('text/css; charset=utf-8');
  expect(await asset.text()).toContain('font-family');

  const missing = await fetch(`${url}/no/such/page`);
  expect(missing.status).toBe(404);
  expect(await missing.text()).toContain('<h1>Nothing here</h1>');
  expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
}
