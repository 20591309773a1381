import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** A fresh DRYDOCK_HOME per test, removed afterwards. */
export const useHome = (): { readonly dir: string } => {
  const state = { dir: '' };
  let previous: string | undefined;
  beforeEach(async () => {
    state.dir = await mkdtemp(join(tmpdir(), 'drydock-store-'));
    previous = process.env.DRYDOCK_HOME;
    process.env.DRYDOCK_HOME = state.dir;
  });
  afterEach(async () => {
    if (previous === undefined) delete process.env.DRYDOCK_HOME;
    else process.env.DRYDOCK_HOME = previous;
    await rm(state.dir, { recursive: true, force: true });
  });
  return state;
};

export const ls = async (dir: string): Promise<string[]> => (await readdir(dir)).sort();
