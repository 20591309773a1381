/** The options of `staticSite()`, and the checks that say what each one allows. */
import type { OptionCheck } from '@drydock/core';

export interface StaticCacheOptions {
  /** Cache-Control of every response but the immutable ones (default `no-cache`: revalidate with the ETag). */
  default?: string;
  /** Cache-Control of immutable paths (default `public, max-age=31536000, immutable`). */
  immutable?: string;
  /** Regular expression (Go RE2 syntax) of the URL paths that are immutable (default: content-hashed names). */
  immutablePaths?: string;
}

export interface StaticOptions {
  /**
   * The site's directory: what the build writes (default: `dist`, or the folder the framework in
   * package.json writes), or without a build the first of public, dist, build, site, _site, www,
   * out that holds index.html, else the project itself.
   */
  dir?: string;
  /**
   * The command that builds the site (default: the package manager's `run build` when package.json
   * has a build script); `false` serves the files as they are.
   */
  build?: string | false;
  /** Node.js version of the build image `node:<version>-slim` (default `'20'`). */
  version?: string;
  /** Installs the build's dependencies (default: from the lockfile, e.g. `npm ci`). */
  install?: string;
  /** The port the server listens on: `EXPOSE`d and passed as `$PORT` (default 8080). */
  port?: number;
  /** Single-page app: unknown paths without a file extension get index.html (default false). */
  spa?: boolean;
  cache?: StaticCacheOptions;
  /** Debian packages the build needs (the runtime is the server alone). */
  buildPackages?: readonly string[];
}

const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+:~*-]+)?$/;
const oneLine = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && !/[\r\n]/.test(v);
/** A header value travels in an ENV line and an HTTP header: printable ASCII. */
const headerValue = (v: unknown): boolean => typeof v === 'string' && /^[\x20-\x7e]+$/.test(v) && v.trim() !== '';

export const checks: { readonly [K in keyof StaticOptions]-?: OptionCheck } = {
  dir: (v) =>
    typeof v === 'string' && /^[\w.\-/]+$/.test(v) && !v.startsWith('/') && !v.split('/').includes('..')
      ? undefined
      : 'a directory inside the project, such as "dist" or "public"',
  build: (v) => (v === false || oneLine(v) ? undefined : 'a one-line shell command, or false for no build'),
  version: (v) =>
    typeof v === 'string' && /^\d{2}(\.\d+){0,2}$/.test(v) ? undefined : 'a Node.js version such as "20"',
  install: (v) => (oneLine(v) ? undefined : 'a one-line shell command'),
  port: (v) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? undefined : 'an integer from 1 to 65535',
  spa: (v) => (typeof v === 'boolean' ? undefined : 'true or false'),
  cache: (v) => {
    const allowed =
      'an object with default, immutable (Cache-Control values) and immutablePaths (a regular expression)';
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return allowed;
    for (const [key, value] of Object.entries(v)) {
      if (key === 'default' || key === 'immutable') {
        if (!headerValue(value)) return `${allowed}; cache.${key} must be a Cache-Control value`;
      } else if (key === 'immutablePaths') {
        if (typeof value !== 'string' || !validRegExp(value))
          return `${allowed}; cache.immutablePaths must be a regular expression`;
      } else return `${allowed}; "${key}" is not one of them`;
    }
    return undefined;
  },
  buildPackages: (v) =>
    Array.isArray(v) && v.every((p) => typeof p === 'string' && DEBIAN_PACKAGE.test(p))
      ? undefined
      : 'a list of Debian package names such as "hugo"',
};

/** RE2 and JavaScript agree on the common syntax; reject what neither would take. */
function validRegExp(source: string): boolean {
  if (/[\r\n]/.test(source)) return false;
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
