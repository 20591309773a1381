/**
 * @drydock/preset-python: a Python app in three stages. `deps` makes a virtualenv in /opt/venv and
 * installs the dependencies into it (pip with requirements.txt, or pyproject with uv or poetry when
 * their lockfile is there; download caches in cache mounts); `build` adds the source in /app (and
 * the project itself, when it is a package) and compiles bytecode; `runtime` is
 * `python:<version>-slim` with the virtualenv and /app copied in, running as an unprivileged user
 * with `PYTHONUNBUFFERED=1`.
 */
import { cache, copy, definePreset, run, type ProjectFiles, type Step } from '@drydock/core';
import { checks, type PythonInstaller, type PythonOptions } from './options.js';
import { detect, installerFor, isPackage, requirementFiles, startCommand } from './project.js';

export type { PythonInstaller, PythonOptions } from './options.js';

export type PythonStage = 'deps' | 'build' | 'runtime';
export type PythonStep =
  | 'build-packages'
  | 'tools'
  | 'venv'
  | 'manifests'
  | 'dependencies'
  | 'venv-bytecode'
  | 'source'
  | 'project'
  | 'build'
  | 'bytecode'
  | 'packages'
  | 'user'
  | 'copy-venv'
  | 'copy-app';

/** Where the virtualenv lives, in both stages. */
export const VENV = '/opt/venv';
/** Where the app lives, in both stages. */
export const APP = '/app';
/** The unprivileged user the app runs as (numeric, so that Kubernetes can verify `runAsNonRoot`). */
export const UID = 10001;

const pipCache = () => cache('/root/.cache/pip');
/** The image's own pip, installing into the virtualenv (pip 22.3+): the virtualenv itself has no pip. */
const pip = (args: string) => `python -m pip --python ${VENV}/bin/python install --no-compile ${args}`;

export const python = definePreset<PythonOptions, PythonStage, PythonStep>({
  name: 'python',
  package: '@drydock/preset-python',
  importName: 'python',
  description: 'Python app: virtualenv (pip, uv or poetry) in a slim runtime, bytecode compiled, non-root',
  stageNames: ['deps', 'build', 'runtime'],
  target: 'runtime',
  stepNames: [
    'build-packages',
    'tools',
    'venv',
    'manifests',
    'dependencies',
    'venv-bytecode',
    'source',
    'project',
    'build',
    'bytecode',
    'packages',
    'user',
    'copy-venv',
    'copy-app',
  ],
  options: checks,
  ignore: [
    '.git',
    '**/__pycache__',
    '**/*.py[cod]',
    '.venv',
    'venv',
    '.pytest_cache',
    '.mypy_cache',
    '.ruff_cache',
    '.tox',
    'dockerfiles',
    'images.config.*',
    'images.lock.json',
  ],
  detect,
  stages(options, { project }) {
    const version = options.version ?? '3.11';
    const port = options.port ?? 8000;
    const installer = options.installer ?? installerFor(project);
    const plan = installPlan(installer, project);
    const start = options.start ?? startCommand(project, plan.installsProject);
    if (start === undefined) {
      throw new Error(
        `preset python: no start command for ${project.dir}: none of main.py, app.py, server.py, run.py, ` +
          `a package with __main__.py or a single [project.scripts] entry; set option "start" (e.g. start: ['python', 'serve.py'])`,
      );
    }
    const image = `python:${version}-slim` as const;
    const venvEnv = { VIRTUAL_ENV: VENV, PATH: `${VENV}/bin:$PATH` };
    // Hash-based .pyc files stay valid whatever the file times in the image (layers clamp them);
    // timestamp-based ones would be stale, recompiled at every start by a user who cannot save them.
    const compile = (dir: string) => `python -m compileall -q -f -j 0 --invalidation-mode checked-hash ${dir}`;
    return {
      // The virtualenv with the dependencies: rebuilt only when the dependency manifests change.
      deps: {
        from: image,
        workdir: APP,
        // Bytecode is compiled by the bytecode steps, for everything at once, not by pip on the way
        // (--no-compile: pip reads PIP_NO_COMPILE=1 as "compile").
        // The virtualenv is not on PATH yet: `python` is the image's, with pip, uv or poetry.
        env: {
          PYTHONDONTWRITEBYTECODE: 1,
          PIP_DISABLE_PIP_VERSION_CHECK: 1,
          PIP_ROOT_USER_ACTION: 'ignore',
          ...plan.env,
        },
        steps: {
          'build-packages': aptInstall(options.buildPackages),
          tools: plan.tools,
          // Without pip (its 15 MB are of no use at run time), except for poetry, which may need it.
          venv: run(`python -m venv ${installer === 'poetry' ? '' : '--without-pip '}${VENV}`),
          manifests: plan.manifests.length ? copy(plan.manifests, './') : undefined,
          dependencies: plan.dependencies,
          // Files that do not compile in dependencies are skipped, as pip itself does.
          'venv-bytecode': run(`${compile(VENV)} > /dev/null || true`),
        },
      },
      // The app's source on top, with the project itself installed when it is a package.
      build: {
        from: 'deps',
        steps: {
          source: copy('.', './'),
          project: plan.project,
          // With the virtualenv's `python` and the dependencies' commands first on PATH.
          build:
            options.build === undefined
              ? undefined
              : run(`export VIRTUAL_ENV=${VENV} PATH=${VENV}/bin:$PATH && ${options.build}`),
          bytecode: run(plan.project ? `${compile(VENV)} > /dev/null || true; ${compile(APP)}` : compile(APP)),
        },
      },
      runtime: {
        from: image,
        workdir: APP,
        env: { ...venvEnv, PYTHONUNBUFFERED: 1, PYTHONDONTWRITEBYTECODE: 1, PORT: port },
        steps: {
          packages: aptInstall(options.packages),
          user: run(
            `groupadd --system --gid ${UID} app && ` +
              `useradd --system --uid ${UID} --gid app --home-dir ${APP} --no-create-home --shell /usr/sbin/nologin app`,
          ),
          // From deps unless the project itself went into the virtualenv: a source edit then
          // leaves this layer alone.
          'copy-venv': copy(VENV, VENV, { from: plan.project ? 'build' : 'deps' }),
          'copy-app': copy(APP, APP, { from: 'build' }),
        },
        user: `${UID}:${UID}`,
        expose: [port],
        cmd: start,
      },
    };
  },
});

interface InstallPlan {
  /** Files copied before the dependencies are installed (their layer is cached until they change). */
  manifests: string[];
  tools?: Step<never>;
  dependencies?: Step<never>;
  /** Installs the project itself, after the source is copied. */
  project?: Step<never>;
  env: Record<string, string | number>;
  installsProject: boolean;
}

function installPlan(installer: PythonInstaller, project: ProjectFiles): InstallPlan {
  const pkg = isPackage(project);
  const pyproject = project.exists('pyproject.toml') ? ['pyproject.toml'] : [];
  switch (installer) {
    case 'uv': {
      const mounts = [cache('/root/.cache/uv')];
      const sync = '--locked --no-dev --no-editable';
      return {
        manifests: [...pyproject, 'uv.lock'],
        tools: run(`python -m pip install uv`, { mounts: [pipCache()] }),
        dependencies: run(`uv sync ${sync} --no-install-project`, { mounts }),
        project: pkg ? run(`uv sync ${sync}`, { mounts }) : undefined,
        env: { UV_PROJECT_ENVIRONMENT: VENV, UV_LINK_MODE: 'copy', UV_PYTHON_DOWNLOADS: 'never' },
        installsProject: pkg,
      };
    }
    case 'poetry': {
      const mounts = [cache('/root/.cache/pypoetry')];
      const install = 'poetry install --only main --no-interaction --no-ansi';
      return {
        manifests: [...pyproject, 'poetry.lock'],
        // Poetry lives outside the app's virtualenv, which it fills because it is the active one.
        tools: run(
          `python -m venv /opt/poetry && /opt/poetry/bin/pip install poetry && ln -s /opt/poetry/bin/poetry /usr/local/bin/poetry`,
          { mounts: [pipCache()] },
        ),
        dependencies: run(`${install} --no-root`, { mounts }),
        project: pkg ? run(install, { mounts }) : undefined,
        // Poetry fills the virtualenv VIRTUAL_ENV names, as if it were activated.
        env: { POETRY_VIRTUALENVS_CREATE: 'false', VIRTUAL_ENV: VENV },
        installsProject: pkg,
      };
    }
    case 'pip': {
      const requirements = requirementFiles(project);
      const main = requirements.includes('requirements.txt') ? 'requirements.txt' : undefined;
      return {
        manifests: requirements,
        dependencies: main ? run(pip(`-r ${main}`), { mounts: [pipCache()] }) : undefined,
        // With requirements.txt the dependencies are in already; without it pip resolves them now.
        project: pkg ? run(pip(main ? '--no-deps .' : '.'), { mounts: [pipCache()] }) : undefined,
        env: {},
        installsProject: pkg,
      };
    }
  }
}

function aptInstall(packages: readonly string[] | undefined): Step<never> | undefined {
  if (!packages?.length) return undefined;
  return run(
    `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')} && rm -rf /var/lib/apt/lists/*`,
  );
}
