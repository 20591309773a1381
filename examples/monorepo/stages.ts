/**
 * Stage builders shared by the monorepo's images. They are plain functions returning plain stage
 * data, so images.config.ts composes them like any other value (a local preset).
 */
import { copy, run, tmpfs, type StageDef, type StagesDef } from 'drydock';

export interface NodeServiceOptions {
  /** Node.js major version; pass the arg value so it stays an `ARG` in the emitted Dockerfile. */
  nodeVersion: string;
  /** The release being built, recorded in the environment and the OCI labels. */
  release: string;
  /** Entry point, relative to the service folder. */
  main: string;
  /** Extra environment for the running service. */
  env?: Readonly<Record<string, string | number | boolean>>;
  /** Ports the service listens on. */
  expose?: readonly (number | string)[];
  healthcheck?: StageDef['healthcheck'];
  title: string;
}

/**
 * A dependency-free Node service from its own context folder, in two stages:
 * `test` copies the sources and runs `node --test` (a failing test fails the build), then drops the
 * test files; `runtime` copies the tested sources into a clean image that runs as `node`.
 */
export function nodeService(o: NodeServiceOptions): StagesDef<'test' | 'runtime'> {
  const base = `node:${o.nodeVersion}-slim` as const;
  return {
    test: {
      from: base,
      workdir: '/srv',
      steps: [
        copy('package.json', './'),
        copy('src', './src'),
        run('node --test && find src -name "*.test.js" -delete', { mounts: [tmpfs('/tmp')] }),
      ],
    },
    runtime: {
      from: base,
      workdir: '/srv',
      env: { NODE_ENV: 'production', RELEASE: o.release, ...o.env },
      steps: [copy('/srv', '/srv', { from: 'test' })],
      user: 'node',
      ...(o.expose ? { expose: o.expose } : {}),
      ...(o.healthcheck ? { healthcheck: o.healthcheck } : {}),
      labels: labels(o.title, o.release),
      cmd: ['node', o.main],
    },
  };
}

export interface StaticSiteOptions {
  release: string;
  /** Folder of the context to serve. */
  root: string;
  /** Port busybox httpd listens on (the PORT environment variable at run time). */
  port: number;
  title: string;
}

/** A static site served by busybox httpd as `nobody`. */
export function staticSite(o: StaticSiteOptions): StageDef<never> {
  return {
    from: 'busybox:1.35',
    env: { PORT: o.port, RELEASE: o.release },
    // The site's files change most often: copied last, so an edit to one rebuilds one layer and
    // runs nothing.
    steps: [run('mkdir -p /www && echo "$RELEASE" > /www/release.txt'), copy(o.root, '/www')],
    user: 'nobody',
    expose: [o.port],
    labels: labels(o.title, o.release),
    // Shell form, so $PORT is read when the container starts (a CMD cannot expand build args).
    cmd: 'exec httpd -f -v -p "$PORT" -h /www',
  };
}

function labels(title: string, release: string): Record<string, string> {
  return {
    'org.opencontainers.image.title': title,
    'org.opencontainers.image.version': release,
    'org.opencontainers.image.vendor': 'drydock examples',
  };
}
