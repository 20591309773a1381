/**
 * @drydock/preset-node: what it makes of a project, read as the Dockerfile it emits. Fixture
 * folders (test/presets/fixtures/node/*) stand for the projects; detection reads them through the
 * same read-only view drydock init uses. No container runs here (see node-build.test.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, copy, DiagnosticError, emitDockerfile, projectFiles, run, type Diagnostic } from '@drydock/core';
import { node } from '../../presets/node/src/index.js';
import { ROOT } from '../e2e/helpers.js';

const FIXTURES = join(ROOT, 'test/presets/fixtures/node');
const fixture = (name: string) => join(FIXTURES, name);

/** The image `node(options)` makes for a fixture, as an emitted Dockerfile, or the diagnostics. */
function plan(options: Parameters<typeof node>[0], dir: string): { dockerfile: string; diagnostics: Diagnostic[] } {
  const { graph, diagnostics } = compile(
    { images: { app: node(options) } },
    { project: (context) => projectFiles(join(dir, context)) },
  );
  if (diagnostics.length) return { dockerfile: '', diagnostics };
  return { dockerfile: emitDockerfile(graph, 'app', { configFile: 'images.config.ts' }), diagnostics: [] };
}

/** The stages of the image's Dockerfile: each an instruction a line (continuations joined). */
function stages(options: Parameters<typeof node>[0], dir: string): Record<string, string[]> {
  const { dockerfile, diagnostics } = plan(options, dir);
  expect(diagnostics.map((d) => d.message)).toEqual([]);
  const out: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const line of dockerfile.replace(/ \\\n\s+/g, ' ').split('\n')) {
    const from = / AS ([\w.-]+)$/.exec(line);
    if (line.startsWith('FROM ') && from) out[from[1]!] = current = [line];
    else if (current && line.trim() !== '' && !line.startsWith('#')) current.push(line);
  }
  return out;
}

function messages(call: () => unknown): string[] {
  try {
    call();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics.map((d) => d.message);
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}

describe('detect: which projects the node preset fits, and why', () => {
  it.each([
    ['npm', 'package.json, npm (package-lock.json)'],
    ['pnpm-lockfile-v6', 'package.json, pnpm (pnpm-lock.yaml)'],
    ['pnpm-pinned', 'package.json, pnpm (package.json packageManager pnpm@9.15.0)'],
    ['yarn-classic', 'package.json, yarn (yarn.lock)'],
    ['yarn-berry', 'package.json, yarn (package.json packageManager yarn@4.5.0)'],
    ['no-lockfile', 'package.json, npm (no lockfile)'],
  ])('%s: %s', (name, reason) => {
    expect(node.detect(projectFiles(fixture(name)))).toEqual({ reason });
  });

  it('does not fit a project without package.json', () => {
    expect(node.detect(projectFiles(fixture('not-node')))).toBeUndefined();
  });

  it('tells drydock init how to import it', () => {
    expect({ name: node.name, package: node.package, importSnippet: node.importSnippet }).toEqual({
      name: 'node',
      package: '@drydock/preset-node',
      importSnippet: "import { node } from '@drydock/preset-node';",
    });
  });
});

describe('npm, no build: production dependencies only, then the app', () => {
  const s = stages({ version: '20' }, fixture('npm'));

  it('installs with npm ci --omit=dev from the manifests alone, npm’s cache in a cache mount', () => {
    expect(s['prod-deps']).toEqual([
      'FROM node:20-slim AS prod-deps',
      'WORKDIR /app',
      'COPY package.json package-lock.json ./',
      'RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund',
    ]);
  });

  it('runs as node with NODE_ENV=production, PORT and EXPOSE 3000, node as PID 1 from the start script', () => {
    expect(s.runtime).toEqual([
      'FROM node:20-slim AS runtime',
      'WORKDIR /app',
      'ENV NODE_ENV=production PORT=3000',
      'COPY --from=prod-deps /app/node_modules ./node_modules',
      'COPY . ./',
      'USER node',
      'EXPOSE 3000',
      'CMD ["node", "src/index.js", "--port", "3000"]',
    ]);
  });

  it('builds no deps or build stage', () => {
    expect(Object.keys(s)).toEqual(['prod-deps', 'runtime']);
  });
});

describe('a build script: every dependency to build, dev dependencies pruned for the runtime', () => {
  const s = stages({}, fixture('pnpm-lockfile-v6'));

  it('pins pnpm to the major that wrote the lockfile (v6: pnpm 8), through corepack', () => {
    expect(s.deps).toEqual([
      'FROM node:22-slim AS deps',
      'WORKDIR /app',
      'ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0',
      'RUN corepack enable pnpm',
      'COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./',
      'RUN --mount=type=cache,target=/root/.local/share/pnpm/store --mount=type=cache,target=/root/.cache/node/corepack corepack pnpm@8 install --frozen-lockfile',
    ]);
  });

  it('builds on the full install, then removes node_modules from the build output', () => {
    expect(s.build).toEqual([
      'FROM deps AS build',
      'COPY . ./',
      'RUN --mount=type=cache,target=/root/.local/share/pnpm/store --mount=type=cache,target=/root/.cache/node/corepack corepack pnpm@8 run build',
      'RUN rm -rf node_modules',
    ]);
  });

  it('prunes dev dependencies from a copy of the install, without downloading', () => {
    expect(s['prod-deps']).toEqual([
      'FROM deps AS prod-deps',
      'RUN --mount=type=cache,target=/root/.local/share/pnpm/store --mount=type=cache,target=/root/.cache/node/corepack corepack pnpm@8 prune --prod',
    ]);
  });

  it('ships production node_modules and the build, and starts main', () => {
    expect(s.runtime).toEqual([
      'FROM node:22-slim AS runtime',
      'WORKDIR /app',
      'ENV NODE_ENV=production PORT=3000',
      'COPY --from=prod-deps /app/node_modules ./node_modules',
      'COPY --from=build /app ./',
      'USER node',
      'EXPOSE 3000',
      'CMD ["node", "lib/main.js"]',
    ]);
  });
});

describe('package managers', () => {
  it('runs the version package.json pins, and npm start when the start script is not plain node', () => {
    const s = stages({}, fixture('pnpm-pinned'));
    expect(s['prod-deps']).toContain(
      'RUN --mount=type=cache,target=/root/.local/share/pnpm/store --mount=type=cache,target=/root/.cache/node/corepack pnpm install --prod --frozen-lockfile',
    );
    expect(s.runtime!.at(-1)).toBe('CMD ["npm", "start"]');
  });

  it('yarn 1: --frozen-lockfile, --production to prune, yarn’s cache mounted', () => {
    const s = stages({}, fixture('yarn-classic'));
    const cacheMounts =
      '--mount=type=cache,target=/usr/local/share/.cache/yarn --mount=type=cache,target=/root/.cache/node/corepack';
    expect(s.deps).toContain(`RUN ${cacheMounts} corepack yarn@1.22.22 install --frozen-lockfile`);
    expect(s.build).toContain(`RUN ${cacheMounts} corepack yarn@1.22.22 run build`);
    expect(s['prod-deps']).toContain(
      `RUN ${cacheMounts} corepack yarn@1.22.22 install --frozen-lockfile --production --prefer-offline`,
    );
  });

  it('yarn 4: its rc file and release copied with the manifests, --immutable, workspaces focus --production', () => {
    const s = stages({}, fixture('yarn-berry'));
    expect(s['prod-deps']).toEqual([
      'FROM node:22-slim AS prod-deps',
      'WORKDIR /app',
      'ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0',
      'RUN corepack enable yarn',
      'COPY package.json yarn.lock .yarnrc.yml ./',
      'COPY .yarn/releases ./.yarn/releases',
      'RUN --mount=type=cache,target=/root/.yarn/berry/cache --mount=type=cache,target=/root/.cache/node/corepack yarn workspaces focus --all --production',
    ]);
    expect(s.runtime!.at(-1)).toBe('CMD ["node", "index.js"]');
  });

  it('without a lockfile: npm install, and the version from .nvmrc (lts/iron is 20)', () => {
    const s = stages({}, fixture('no-lockfile'));
    expect(s['prod-deps']).toEqual([
      'FROM node:20-slim AS prod-deps',
      'WORKDIR /app',
      'COPY package.json ./',
      'RUN --mount=type=cache,target=/root/.npm npm install --omit=dev --no-audit --no-fund',
    ]);
    expect(s.runtime!.at(-1)).toBe('CMD ["node", "app.js"]');
  });

  it('the packageManager option wins over the lockfile', () => {
    const s = stages({ packageManager: 'pnpm' }, fixture('npm'));
    expect(s['prod-deps']).toContain('COPY package.json ./');
    expect(s['prod-deps']!.at(-1)).toMatch(/ corepack pnpm@9 install --prod --no-frozen-lockfile$/);
  });

  it.each([
    [
      'yarn-pnp',
      `preset node: Yarn Plug'n'Play is not supported: set "nodeLinker: node-modules" in .yarnrc.yml (in ${fixture('yarn-pnp')})`,
    ],
    [
      'bun',
      'preset node: package.json field "packageManager" is "bun@1.1.0"; supported: npm@…, pnpm@…, yarn@… (or set the packageManager option)',
    ],
  ])('%s: a one-line error naming the file and what is supported', (name, message) => {
    const { diagnostics } = plan({}, fixture(name));
    expect(diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['DD101', `the stages of image "app" threw: ${message}`],
    ]);
  });
});

describe('options', () => {
  it('base images, user, port, workdir, env and Debian packages', () => {
    const s = stages(
      {
        version: '22.11.0',
        buildFrom: 'node:22.11.0',
        from: 'gcr.io/distroless/nodejs22-debian12:nonroot',
        user: '65532',
        port: 8080,
        workdir: '/srv/app',
        env: { LOG_LEVEL: 'info' },
        packages: ['tini', 'curl'],
        buildPackages: ['python3', 'g++', 'make'],
        start: ['/usr/bin/tini', '--', 'node', 'lib/main.js'],
      },
      fixture('pnpm-lockfile-v6'),
    );
    expect(s.deps!.slice(0, 4)).toEqual([
      'FROM node:22.11.0 AS deps',
      'WORKDIR /srv/app',
      'ENV COREPACK_ENABLE_DOWNLOAD_PROMPT=0',
      'RUN apt-get update && apt-get install -y --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/*',
    ]);
    expect(s.runtime).toEqual([
      'FROM gcr.io/distroless/nodejs22-debian12:nonroot AS runtime',
      'WORKDIR /srv/app',
      'ENV NODE_ENV=production PORT=8080 LOG_LEVEL=info',
      'RUN apt-get update && apt-get install -y --no-install-recommends curl tini && rm -rf /var/lib/apt/lists/*',
      'COPY --from=prod-deps /srv/app/node_modules ./node_modules',
      'COPY --from=build /srv/app ./',
      'USER 65532',
      'EXPOSE 8080',
      'CMD ["/usr/bin/tini", "--", "node", "lib/main.js"]',
    ]);
  });

  it('build: false ships the source as it is; port: false sets no PORT and exposes nothing', () => {
    const s = stages({ build: false, port: false, start: 'node lib/main.js' }, fixture('pnpm-lockfile-v6'));
    expect(Object.keys(s)).toEqual(['prod-deps', 'runtime']);
    expect(s.runtime).toEqual([
      'FROM node:22-slim AS runtime',
      'WORKDIR /app',
      'ENV NODE_ENV=production',
      'COPY --from=prod-deps /app/node_modules ./node_modules',
      'COPY . ./',
      'USER node',
      'CMD ["node", "lib/main.js"]',
    ]);
  });

  it('a start command with shell syntax stays a shell command', () => {
    const s = stages({ start: 'node server.js | tee /tmp/log' }, fixture('npm'));
    expect(s.runtime!.at(-1)).toBe('CMD node server.js | tee /tmp/log');
  });

  it('steps, before, after and override change the named steps and stages', () => {
    const s = stages(
      {
        steps: { build: run('pnpm exec tsc -p tsconfig.build.json'), clean: null },
        before: { install: [copy('.npmrc', './')] },
        after: { app: [run('node lib/warm.js')] },
        override: { runtime: { labels: { team: 'api' }, stopSignal: 'SIGINT' } },
      },
      fixture('pnpm-lockfile-v6'),
    );
    expect(s.deps!.slice(-2)).toEqual([
      'COPY .npmrc ./',
      'RUN --mount=type=cache,target=/root/.local/share/pnpm/store --mount=type=cache,target=/root/.cache/node/corepack corepack pnpm@8 install --frozen-lockfile',
    ]);
    expect(s.build).toEqual(['FROM deps AS build', 'COPY . ./', 'RUN pnpm exec tsc -p tsconfig.build.json']);
    expect(s.runtime!.slice(4)).toEqual([
      'COPY --from=build /app ./',
      'RUN node lib/warm.js',
      'USER node',
      'LABEL team=api',
      'EXPOSE 3000',
      'STOPSIGNAL SIGINT',
      'CMD ["node", "lib/main.js"]',
    ]);
  });

  it('a build step the user supplies makes a build even without a build script', () => {
    const s = stages({ steps: { build: run('node build.js') } }, fixture('npm'));
    expect(s.build).toEqual(['FROM deps AS build', 'COPY . ./', 'RUN node build.js', 'RUN rm -rf node_modules']);
    expect(s.runtime).toContain('COPY --from=build /app ./');
  });

  it('bad values: DD160 naming the option and what is allowed, all at once', () => {
    expect(
      messages(() =>
        node({
          version: '20.x',
          port: 70000,
          packageManager: 'bun',
          packages: ['curl; rm -rf /'],
          user: '',
          start: [],
        } as never),
      ),
    ).toEqual([
      'preset node: option "version" must be a Node.js version such as "22", "22.11.0" or "lts" (got "20.x")',
      'preset node: option "port" must be an integer from 1 to 65535, or false (got 70000)',
      'preset node: option "packageManager" must be one of "npm", "pnpm", "yarn" (got "bun")',
      'preset node: option "packages" must be a list of Debian package names such as "curl" (got ["curl; rm -rf /"])',
      'preset node: option "user" must be a user name or uid[:gid] (got "")',
      'preset node: option "start" must be a command line or a non-empty argv array (got [])',
    ]);
  });

  it('a change to a step this project’s image does not use is an error, not a silent no-op', () => {
    const { diagnostics } = plan({ before: { build: [run('echo')] } }, fixture('npm'));
    expect(diagnostics.map((d) => d.message)).toEqual([
      'preset node: before.build: step "build" belongs to stage "build", which this project\'s image does not use (stages used: runtime, prod-deps)',
    ]);
  });
});

describe('the Node.js version', () => {
  it.each([
    ['the option', { version: '18' }, 'npm', 'node:18-slim'],
    ['.nvmrc lts/iron', {}, 'no-lockfile', 'node:20-slim'],
    ['the default, when nothing names one', {}, 'npm', 'node:22-slim'],
  ])('%s', (_what, options, name, image) => {
    expect(stages(options, fixture(name)).runtime![0]).toBe(`FROM ${image} AS runtime`);
  });

  it('engines.node only when it names one major: 20.x yes, >=18 no', () => {
    expect(stages({}, join(ROOT, 'examples/preset-node')).runtime![0]).toBe('FROM node:20-slim AS runtime');
    // engines-range says >=18 and has no .nvmrc: no single major is named, so the default.
    expect(stages({}, fixture('engines-range')).runtime![0]).toBe('FROM node:22-slim AS runtime');
  });
});
