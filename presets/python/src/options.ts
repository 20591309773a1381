/** The options of `python()`, and the checks that say what each one allows. */
import type { OptionCheck } from '@drydock/core';

export type PythonInstaller = 'pip' | 'uv' | 'poetry';

export interface PythonOptions {
  /** Python version, as in the base images `python:<version>-slim` (default `'3.11'`). */
  version?: string;
  /**
   * What the container runs (default: detected, see the README). An array runs as is (exec form);
   * a string runs through `/bin/sh -c`, for `$PORT` and other shell features.
   */
  start?: string | readonly string[];
  /** The port the app listens on: `EXPOSE`d and passed as `$PORT` (default 8000). */
  port?: number;
  /** How dependencies are installed (default: `uv` with uv.lock, `poetry` with poetry.lock, else `pip`). */
  installer?: PythonInstaller;
  /** A command run after the source is copied, in the build stage (e.g. `python manage.py collectstatic --noinput`). */
  build?: string;
  /** Debian packages the app needs at run time (e.g. `libpq5`), installed in the runtime image. */
  packages?: readonly string[];
  /** Debian packages needed only to install dependencies (e.g. `gcc`, `libpq-dev`), in the build stage. */
  buildPackages?: readonly string[];
}

const VERSION = /^3\.\d{1,2}$/;
/** A Debian package name, optionally pinned (`libpq5=15.*`). */
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+:~*-]+)?$/;

export const port: OptionCheck = (v) =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? undefined : 'an integer from 1 to 65535';

export const debianPackages: OptionCheck = (v) =>
  Array.isArray(v) && v.every((p) => typeof p === 'string' && DEBIAN_PACKAGE.test(p))
    ? undefined
    : 'a list of Debian package names such as "libpq5" or "gcc"';

export const command: OptionCheck = (v) =>
  (typeof v === 'string' && v.trim() !== '') ||
  (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string'))
    ? undefined
    : 'a non-empty command: a string (run by /bin/sh -c) or an array of strings (run as is)';

export const shellCommand: OptionCheck = (v) =>
  typeof v === 'string' && v.trim() !== '' && !/[\r\n]/.test(v) ? undefined : 'a one-line shell command';

export const checks: { readonly [K in keyof PythonOptions]-?: OptionCheck } = {
  version: (v) => (typeof v === 'string' && VERSION.test(v) ? undefined : 'a Python version such as "3.11" or "3.12"'),
  start: command,
  port,
  installer: (v) => (v === 'pip' || v === 'uv' || v === 'poetry' ? undefined : 'one of "pip", "uv", "poetry"'),
  build: shellCommand,
  packages: debianPackages,
  buildPackages: debianPackages,
};
