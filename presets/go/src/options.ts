/** The options of `go()`, and the checks that say what each one allows. */
import type { OptionCheck } from '@drydock/core';

export interface GoOptions {
  /** Go version of the build image `golang:<version>` (default: go.mod's `go` line, major.minor). */
  version?: string;
  /** The main package to build, as `go build` takes it (default: `.` or the only `./cmd/<name>`). */
  main?: string;
  /** Name of the binary, installed as `/usr/local/bin/<binary>` (default: the main package's last path element). */
  binary?: string;
  /** Arguments the binary gets (the image's `CMD`; the binary is the `ENTRYPOINT`). */
  args?: readonly string[];
  /** The port the app listens on: `EXPOSE`d and passed as `$PORT` (default 8080). */
  port?: number;
  /** A command run after the source is copied, before compiling (e.g. `go generate ./...`). */
  build?: string;
  /** Linker flags (default `-s -w`: no symbol table or DWARF, a smaller binary). */
  ldflags?: string;
  /** Build tags, e.g. `['timetzdata']` to embed the time zone database (the runtime has none). */
  buildTags?: readonly string[];
  /** Debian packages needed to build (installed in the build stage; the runtime has no package manager). */
  buildPackages?: readonly string[];
}

const VERSION = /^1\.\d{1,2}(\.\d{1,2})?$/;
const DEBIAN_PACKAGE = /^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+:~*-]+)?$/;

const oneLine = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '' && !/[\r\n]/.test(v);

export const checks: { readonly [K in keyof GoOptions]-?: OptionCheck } = {
  version: (v) => (typeof v === 'string' && VERSION.test(v) ? undefined : 'a Go version such as "1.22" or "1.22.5"'),
  main: (v) =>
    v === '.' || (typeof v === 'string' && /^\.\/[\w.\-/]+$/.test(v) && !v.split('/').includes('..'))
      ? undefined
      : 'a package path inside the project starting with "." (e.g. "./cmd/api")',
  binary: (v) =>
    typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) ? undefined : 'a file name such as "api"',
  args: (v) => (Array.isArray(v) && v.every((a) => typeof a === 'string') ? undefined : 'a list of strings'),
  port: (v) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? undefined : 'an integer from 1 to 65535',
  build: (v) => (oneLine(v) ? undefined : 'a one-line shell command'),
  // Single quotes would end the shell quoting the flags are passed in.
  ldflags: (v) => (typeof v === 'string' && !/['\r\n]/.test(v) ? undefined : 'linker flags without quotes or newlines'),
  buildTags: (v) =>
    Array.isArray(v) && v.every((t) => typeof t === 'string' && /^[\w.!-]+$/.test(t))
      ? undefined
      : 'a list of build tags such as "timetzdata" or "netgo"',
  buildPackages: (v) =>
    Array.isArray(v) && v.every((p) => typeof p === 'string' && DEBIAN_PACKAGE.test(p))
      ? undefined
      : 'a list of Debian package names such as "protobuf-compiler"',
};
