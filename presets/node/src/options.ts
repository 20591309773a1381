import type { ImageRef, Mount, OptionCheck } from '@drydock/core';

/** The stages of a node image, in order; `runtime` is the image. */
export type NodeStage = 'deps' | 'build' | 'prod-deps' | 'runtime';

/** The node preset's own options; every preset also takes steps, before, after and override. */
export interface NodeOptions {
  /**
   * Node.js version of the default base images (`node:<version>-slim`): a major (`'22'`), a full
   * version (`'22.11.0'`) or `'lts'`. Default: `.node-version`, `.nvmrc`, or `engines.node` when it
   * names one major version; otherwise `'22'`.
   */
  version?: string;
  /** Base image of the runtime stage (default `node:<version>-slim`). */
  from?: ImageRef;
  /** Base image of the install and build stages (default `node:<version>-slim`). */
  buildFrom?: ImageRef;
  /**
   * Package manager (default: package.json's `packageManager` field, else the lockfile:
   * pnpm-lock.yaml, yarn.lock, package-lock.json; else npm). pnpm and yarn run through corepack.
   */
  packageManager?: 'npm' | 'pnpm' | 'yarn';
  /**
   * The build command (default `<pm> run build` when package.json has a `build` script); `false`:
   * no build even if there is a script.
   */
  build?: string | false;
  /**
   * What the container runs: an argv array, or a command line (split into argv when it is plain
   * words, else run by the shell). Default: the `start` script when it is `node …` (run directly,
   * so signals reach node), else `npm start`; else `node <main>`; else server.js, index.js, app.js
   * or main.js if present.
   */
  start?: string | readonly string[];
  /** Port the app listens on: set as `PORT` and exposed (default 3000); `false` for neither. */
  port?: number | false;
  /** User the container runs as (default `node`, uid 1000 in the node images). */
  user?: string;
  /** Where the app lives in the image (default `/app`). */
  workdir?: string;
  /** Extra environment of the runtime image (NODE_ENV=production and PORT are set already). */
  env?: Readonly<Record<string, string | number | boolean>>;
  /** Debian packages installed into the runtime image. */
  packages?: readonly string[];
  /** Debian packages for installing and building only, e.g. python3, make and g++ for native addons. */
  buildPackages?: readonly string[];
  /**
   * Extra mounts for every step that runs the package manager (install, build, prune), e.g. an
   * `.npmrc` secret: `mounts: [secrets.npmrc.at('/root/.npmrc')]` (in the `node.stages` form).
   */
  mounts?: readonly Mount<NodeStage>[];
}

const VERSION = /^(?:\d+(?:\.\d+){0,2}|lts|current)$/;
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(?:[=:][A-Za-z0-9.+~:-]+)?$/;

const isImage = (v: unknown) =>
  (typeof v === 'string' && v !== '' && !/\s/.test(v)) ||
  (typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'image');
const stringList = (v: unknown, item: RegExp) =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' && item.test(x));

export const checks: { readonly [K in keyof NodeOptions]-?: OptionCheck } = {
  version: (v) =>
    typeof v === 'string' && VERSION.test(v) ? undefined : 'a Node.js version such as "22", "22.11.0" or "lts"',
  from: (v) => (isImage(v) ? undefined : 'an image reference such as "node:22-slim"'),
  buildFrom: (v) => (isImage(v) ? undefined : 'an image reference such as "node:22"'),
  packageManager: (v) => (v === 'npm' || v === 'pnpm' || v === 'yarn' ? undefined : 'one of "npm", "pnpm", "yarn"'),
  build: (v) => (v === false || (typeof v === 'string' && v.trim() !== '') ? undefined : 'a command, or false'),
  start: (v) =>
    (typeof v === 'string' && v.trim() !== '') ||
    (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string'))
      ? undefined
      : 'a command line or a non-empty argv array',
  port: (v) =>
    v === false || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535)
      ? undefined
      : 'an integer from 1 to 65535, or false',
  user: (v) =>
    typeof v === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/.test(v) ? undefined : 'a user name or uid[:gid]',
  workdir: (v) => (typeof v === 'string' && v.startsWith('/') ? undefined : 'an absolute path such as "/app"'),
  env: (v) =>
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    Object.values(v).every((x) => ['string', 'number', 'boolean'].includes(typeof x))
      ? undefined
      : 'an object of strings, numbers or booleans',
  packages: (v) => (stringList(v, DEBIAN_PACKAGE) ? undefined : 'a list of Debian package names such as "curl"'),
  buildPackages: (v) => (stringList(v, DEBIAN_PACKAGE) ? undefined : 'a list of Debian package names such as "g++"'),
  mounts: (v) =>
    Array.isArray(v) &&
    v.every((m) => typeof m === 'object' && m !== null && (m as { kind?: unknown }).kind === 'mount')
      ? undefined
      : 'a list of mounts (cache(), bind(), secrets.x.at(), …)',
};
