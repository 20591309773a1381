/**
 * Helpers for native-build tests: a private copy of a fixture project (builds write
 * images.lock.json next to the config, and tests edit files), a private store, and `build()`
 * through the public API with the bench's registry mirror.
 */
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, loadProject, type BuildOptions, type BuildResult } from '@drydock/core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The bench registry mirrors docker.io (test/env/setup.sh). */
export const MIRROR_ENV = { DRYDOCK_REGISTRY_MIRRORS: 'docker.io=http://127.0.0.1:5000' };

export interface Sandbox {
  /** The project copy. */
  dir: string;
  /** Its store (DRYDOCK_HOME). */
  home: string;
  build(options?: Partial<BuildOptions> & { args?: Record<string, string> }): Promise<BuildResult>;
  remove(): Promise<void>;
}

export async function sandbox(fixture: string, name = 'drydock-build-'): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), name));
  const dir = join(root, 'project');
  const home = join(root, 'home');
  await cp(fixture, dir, { recursive: true, filter: (src) => !src.includes('/dockerfiles') });
  // The config imports 'drydock': the workspace's package (built), as in a user's project.
  await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  return {
    dir,
    home,
    async build(options = {}) {
      const { args, ...rest } = options;
      const project = await loadProject({ cwd: dir, ...(args ? { args } : {}) });
      const result = await build({
        graph: project.graph,
        dir: project.dir,
        secrets: project.config.secrets ?? {},
        storeRoot: home,
        env: { ...process.env, ...MIRROR_ENV, ...rest.env },
        ...rest,
      });
      if (result.failures.length > 0) {
        throw new Error(`build failed:\n${result.failures.map((f) => f.message).join('\n')}`);
      }
      return result;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
