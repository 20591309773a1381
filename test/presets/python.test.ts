/**
 * @drydock/preset-python: what it makes of a project (installer, start command, layers), how it
 * rejects bad options, and the example app (examples/preset-python) built natively and, from its
 * emitted Dockerfile, by BuildKit: both serve HTTP as an unprivileged user on the declared port.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectFiles } from '@drydock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../../presets/python/src/index.js';
import { docker, httpGet, ROOT } from '../e2e/helpers.js';
import { FIXTURES, imageConfig, plan, PresetBench, processUids, stage, thrown } from './preset-example.js';

const EXAMPLE = join(ROOT, 'examples/preset-python');
const fixture = (name: string) => join(FIXTURES, 'python', name);

describe('python preset: what it makes of a project', () => {
  it('detects requirements.txt as a pip project; a folder without Python is not one', () => {
    expect(python.detect(projectFiles(EXAMPLE))).toEqual({ reason: 'requirements.txt (pip)' });
    expect(python.detect(projectFiles(fixture('uv-app')))?.reason).toBe('pyproject.toml, uv.lock (uv)');
    expect(python.detect(projectFiles(fixture('poetry-app')))?.reason).toBe('pyproject.toml, poetry.lock (poetry)');
    expect(python.detect(projectFiles(join(FIXTURES, 'static/plain-site')))).toBeUndefined();
  });

  it('pip: requirements into /opt/venv in their own stage, the source and its bytecode after; runs main.py', () => {
    const { dockerfile } = plan(python(), EXAMPLE);
    expect(stage(dockerfile, 'deps')).toEqual([
      'FROM python:3.11-slim AS deps',
      'WORKDIR /app',
      'ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore',
      // No pip in the virtualenv: the image's pip installs into it.
      'RUN python -m venv --without-pip /opt/venv',
      'COPY requirements.txt ./',
      'RUN --mount=type=cache,target=/root/.cache/pip python -m pip --python /opt/venv/bin/python install --no-compile -r requirements.txt',
      'RUN python -m compileall -q -f -j 0 --invalidation-mode checked-hash /opt/venv > /dev/null || true',
    ]);
    expect(stage(dockerfile, 'build')).toEqual([
      'FROM deps AS build',
      'COPY . ./',
      'RUN python -m compileall -q -f -j 0 --invalidation-mode checked-hash /app',
    ]);
    expect(stage(dockerfile, 'runtime')).toEqual([
      'FROM python:3.11-slim AS runtime',
      'WORKDIR /app',
      'ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=8000',
      expect.stringMatching(/^RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 /),
      'COPY --from=deps /opt/venv /opt/venv',
      'COPY --from=build /app /app',
      'USER 10001:10001',
      'EXPOSE 8000',
      'CMD ["python", "main.py"]',
    ]);
  });

  it('uv with uv.lock: locked dependencies first, the project after the source; starts its one console script', () => {
    const { dockerfile } = plan(python(), fixture('uv-app'));
    const sync = 'RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-dev --no-editable';
    expect(stage(dockerfile, 'deps')).toEqual(
      expect.arrayContaining(['COPY pyproject.toml uv.lock ./', `${sync} --no-install-project`]),
    );
    expect(stage(dockerfile, 'build').slice(1, 3)).toEqual(['COPY . ./', sync]);
    expect(dockerfile).toMatch(/UV_PROJECT_ENVIRONMENT=\/opt\/venv/);
    // The project is in the virtualenv now, so the runtime takes the virtualenv from build.
    expect(stage(dockerfile, 'runtime')).toContain('COPY --from=build /opt/venv /opt/venv');
    expect(dockerfile).toContain('CMD ["greeter-serve"]');
  });

  it('poetry with poetry.lock: main dependencies only, no project install when package-mode is false', () => {
    const { dockerfile } = plan(python(), fixture('poetry-app'));
    const deps = stage(dockerfile, 'deps');
    expect(deps).toContain('COPY pyproject.toml poetry.lock ./');
    expect(deps).toContain(
      'RUN --mount=type=cache,target=/root/.cache/pypoetry poetry install --only main --no-interaction --no-ansi --no-root',
    );
    expect(dockerfile.match(/poetry install/g)).toHaveLength(1);
    expect(dockerfile).toContain('CMD ["python", "app.py"]');
  });

  it('a package with __main__.py starts as `python -m`; tool-only pyproject.toml installs nothing', () => {
    const { dockerfile } = plan(python(), fixture('module-app'));
    expect(dockerfile).toContain('CMD ["python", "-m", "hello"]');
    expect(dockerfile).not.toMatch(/pip install/);
  });

  it('options: start, port, packages, buildPackages, build and version end up where they belong', () => {
    const { dockerfile } = plan(
      python({
        version: '3.12',
        start: 'exec python main.py --port "$PORT"',
        port: 9000,
        packages: ['libpq5'],
        buildPackages: ['gcc', 'libpq-dev'],
        build: 'python -c "print(1)"',
      }),
      EXAMPLE,
    );
    const deps = stage(dockerfile, 'deps');
    const build = stage(dockerfile, 'build');
    const runtime = stage(dockerfile, 'runtime');
    expect(deps[0]).toBe('FROM python:3.12-slim AS deps');
    expect(runtime[0]).toBe('FROM python:3.12-slim AS runtime');
    expect(deps[3]).toMatch(/^RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev && /);
    expect(build.indexOf('RUN export VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH && python -c "print(1)"')).toBe(
      build.indexOf('COPY . ./') + 1,
    );
    expect(runtime).toContain(
      'RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*',
    );
    expect(runtime).toContain('EXPOSE 9000');
    expect(runtime.at(-1)).toBe('CMD exec python main.py --port "$PORT"');
  });

  it('rejects bad options at the call, one line each naming the option and what is allowed', () => {
    const diagnostics = thrown(() =>
      python({ version: '3', port: 0, installer: 'pipenv' as never, packages: ['lib pq'] }),
    );
    expect(diagnostics.map((d) => d.code)).toEqual(['DD160', 'DD160', 'DD160', 'DD160']);
    expect(diagnostics.map((d) => d.message)).toEqual([
      'preset python: option "version" must be a Python version such as "3.11" or "3.12" (got "3")',
      'preset python: option "port" must be an integer from 1 to 65535 (got 0)',
      'preset python: option "installer" must be one of "pip", "uv", "poetry" (got "pipenv")',
      'preset python: option "packages" must be a list of Debian package names such as "libpq5" or "gcc" (got ["lib pq"])',
    ]);
    for (const d of diagnostics) expect(d.loc?.file).toBe(new URL(import.meta.url).pathname);
  });

  it('without a start command it says what it looked for and which option to set', () => {
    const { diagnostics } = plan(python(), fixture('no-entry'));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.code).toBe('DD101');
    expect(diagnostics[0]!.message).toMatch(/preset python: no start command .*main\.py.*set option "start"/);
  });
});

describe('python example (examples/preset-python)', () => {
  const bench = new PresetBench();
  let dir: string;
  beforeAll(async () => {
    await bench.setup();
    dir = await bench.copy(EXAMPLE);
  });
  afterAll(() => bench.cleanup());

  it('built natively: serves HTTP on the declared port as uid 10001, its bytecode compiled hash-checked', async () => {
    const { tag } = await bench.native(dir, 'preset-python');
    const config = await imageConfig(tag);
    expect(config.User).toBe('10001:10001');
    expect(config.ExposedPorts).toEqual({ '8000/tcp': {} });
    expect(config.Env).toEqual(expect.arrayContaining(['PYTHONUNBUFFERED=1', 'PORT=8000']));

    const app = await bench.run(tag, 8000);
    const reply = await httpGet(`${app.url}/?name=drydock`);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({
      service: 'preset-python',
      message: 'Hello, drydock!',
      python: expect.stringMatching(/^3\.11\.\d+$/),
      uid: 10001,
      // Layers clamp file times: only hash-checked .pyc files are still valid in the image.
      bytecode: 'checked-hash, up to date',
    });
    expect(await processUids(app.id)).toEqual([10001]);
    // The app cannot change its own code or virtualenv.
    const write = await docker(['exec', app.id, 'sh', '-c', 'touch /app/x /opt/venv/x']);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/Permission denied/);
  });

  it('an edit of main.py re-runs the source copy and bytecode only, not the dependency install', async () => {
    await bench.native(dir, 'preset-python'); // warm: same store
    const main = join(dir, 'main.py');
    await writeFile(
      main,
      (await readFile(main, 'utf8')).replace('"service": "preset-python"', '"service": "preset-python, edited"'),
    );
    const { tag, executed } = await bench.native(dir, 'preset-python');
    expect(executed).toEqual([
      'build: COPY . ./',
      expect.stringMatching(/^build: RUN python -m compileall /),
      'runtime: COPY --from=build /app /app',
    ]);
    const app = await bench.run(tag, 8000);
    expect(JSON.parse((await httpGet(`${app.url}/`)).body).service).toBe('preset-python, edited');
  });

  it('built by BuildKit from the emitted Dockerfile: the same service, user and port', async () => {
    const tag = await bench.buildkit(await bench.copy(EXAMPLE, 'preset-python-bk'), 'preset-python', 'preset-python');
    const config = await imageConfig(tag);
    expect(config.User).toBe('10001:10001');
    expect(config.ExposedPorts).toEqual({ '8000/tcp': {} });
    const app = await bench.run(tag, 8000);
    const body = JSON.parse((await httpGet(`${app.url}/`)).body);
    expect(body).toMatchObject({ service: 'preset-python', uid: 10001, bytecode: 'checked-hash, up to date' });
    expect(await processUids(app.id)).toEqual([10001]);
  });
});
