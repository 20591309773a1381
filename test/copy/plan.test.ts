/**
 * COPY from the context, planned (layer entries computed from the selection, no file written)
 * against applied (copied into an overlay mount, the upperdir read back): the same layer, byte
 * for byte, in every case the planner takes; and the cases it must leave to the real copy.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Matcher, selectSources, walkContext, type ContextIndex } from '../../core/src/context/index.js';
import { copyNode, type CopyFrom } from '../../core/src/engine/file-nodes.js';
import { snapshotId } from '../../core/src/engine/layers.js';
import { Store } from '../../core/src/store/index.js';
import { GROUP, PASSWD, makeContext } from './fixture.js';

let work: string;
let store: Store;
let ctx: string;
let index: ContextIndex;
/** Two layers, top first: the upper one deletes /gone (a whiteout) and adds /app/kept. */
let lowerdirs: string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'drydock-plan-'));
  store = await Store.open({ root: join(work, 'store') });
  ctx = await makeContext();
  index = await walkContext(ctx, new Matcher([]));
  const base = join(work, 'base');
  const top = join(work, 'top');
  for (const d of ['etc', 'app', 'srv/www', 'gone', 'link-target']) mkdirSync(join(base, d), { recursive: true });
  writeFileSync(join(base, 'etc/passwd'), PASSWD);
  writeFileSync(join(base, 'etc/group'), GROUP);
  chmodSync(join(base, 'app'), 0o750);
  chownSync(join(base, 'app'), 1000, 1001);
  chmodSync(join(base, 'srv'), 0o711);
  writeFileSync(join(base, 'app/file'), 'in the base\n');
  symlinkSync('/link-target', join(base, 'dirlink'));
  mkdirSync(join(top, 'app'), { recursive: true });
  chmodSync(join(top, 'app'), 0o750);
  chownSync(join(top, 'app'), 1000, 1001);
  writeFileSync(join(top, 'app/kept'), 'kept\n');
  execFileSync('mknod', [join(top, 'gone'), 'c', '0', '0']);
  lowerdirs = [top, base];
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(ctx, { recursive: true, force: true });
});

interface Case {
  sources: string[];
  dest: string;
  chown?: string;
  chmod?: string;
}

/** The COPY planned (if copyNode chooses to) and materialized, from the context unless `from` says otherwise. */
async function both(
  c: Case,
  from?: CopyFrom,
): Promise<{ planned: boolean; plannedLayer: unknown; appliedLayer: unknown }> {
  const common = {
    store,
    lowerdirs,
    epoch: 0,
    from: from ?? {
      kind: 'context' as const,
      dir: ctx,
      selection: selectSources(index, { sources: c.sources, dest: c.dest }),
      index,
    },
    sources: c.sources,
    dest: c.dest,
    ...(c.chown ? { chown: c.chown } : {}),
    ...(c.chmod ? { chmod: c.chmod } : {}),
  };
  const plannedLayer = await (await copyNode(common))?.layer;
  // copyNode's own choice, seen in the store: an applied copy leaves its upperdir as the layer's
  // snapshot, a planned one writes the blob alone (the snapshot waits for a step that mounts it).
  const planned = plannedLayer !== undefined && !existsSync(store.snapshotPath(snapshotId(plannedLayer.diffId)));
  const appliedLayer = await (await copyNode({ ...common, materialize: true }))?.layer;
  return { planned, plannedLayer, appliedLayer };
}

describe('a planned COPY writes the layer the applied one does', () => {
  const planned: [string, Case][] = [
    ['a directory to a new path, parents created', { sources: ['dir'], dest: '/opt/new/dir/' }],
    ['several sources into a new directory', { sources: ['dir', 'file.txt', 'exec.sh'], dest: '/srv/site/' }],
    [
      'into an existing directory, new names only (it is copied up as it is)',
      { sources: ['dir', 'h1'], dest: '/app/' },
    ],
    ['one file into an existing directory', { sources: ['file.txt'], dest: '/app/' }],
    ['one file to a new name', { sources: ['exec.sh'], dest: '/srv/www/run' }],
    ['hardlinks within a source, not across', { sources: ['h1', 'h2', 'top'], dest: '/links/' }],
    [
      'globs, --chown by name and --chmod',
      { sources: ['dir/s*', 'tiny'], dest: '/opt/x/', chown: 'app:staff', chmod: '640' },
    ],
    ['an empty file and a numeric --chown', { sources: ['empty'], dest: '/e/', chown: '7:8' }],
  ];
  for (const [name, c] of planned) {
    it(name, async () => {
      const r = await both(c);
      expect(r.planned).toBe(true);
      expect(r.plannedLayer).toBeDefined();
      expect(r.plannedLayer).toEqual(r.appliedLayer);
    });
  }
});

describe('what the planner leaves to the real copy (same layer all the same)', () => {
  const applied: [string, Case][] = [
    ['a name that already exists below the destination', { sources: ['file.txt'], dest: '/app/file' }],
    ['merging into an existing directory', { sources: ['etc'], dest: '/etc/' }],
    ['a symlink on the destination path', { sources: ['tiny'], dest: '/dirlink/sub/' }],
    ['a path an upper layer deleted', { sources: ['tiny'], dest: '/gone/' }],
    ['a file onto an existing directory', { sources: ['tiny'], dest: '/srv/www' }],
  ];
  for (const [name, c] of applied) {
    it(name, async () => {
      const r = await both(c);
      expect(r.planned).toBe(false);
      expect(r.plannedLayer).toEqual(r.appliedLayer);
    });
  }
});

describe('a COPY --from whose sources come whole from one layer is planned too, to the same layer', () => {
  /** A source stage of two layers, top first: `app/dist` made by one step, `app` itself merged. */
  let stage: string[];
  beforeAll(async () => {
    const top = join(work, 'stage-top');
    const bottom = join(work, 'stage-bottom');
    mkdirSync(join(top, 'app/dist/assets'), { recursive: true });
    mkdirSync(join(bottom, 'app/lib'), { recursive: true });
    writeFileSync(join(top, 'app/dist/bundle.js'), 'console.log(1)\n');
    writeFileSync(join(top, 'app/dist/assets/logo.svg'), '<svg/>\n');
    chownSync(join(top, 'app/dist/assets'), 1000, 1000);
    chownSync(join(top, 'app/dist/bundle.js'), 1000, 1001);
    chmodSync(join(top, 'app/dist/bundle.js'), 0o750);
    execFileSync('ln', [join(top, 'app/dist/bundle.js'), join(top, 'app/dist/linked.js')]);
    symlinkSync('bundle.js', join(top, 'app/dist/current.js'));
    execFileSync('setfattr', ['-n', 'user.origin', '-v', 'build', join(top, 'app/dist/assets/logo.svg')]);
    writeFileSync(join(bottom, 'app/lib/util.js'), 'module.exports = 1\n');
    writeFileSync(join(top, 'app/lib-top.js'), 'top\n');
    stage = [top, bottom];
  });

  const fromStage = (c: Case) => both(c, { kind: 'state', lowerdirs: stage });

  const planned: [string, Case][] = [
    ['a directory one step made (owners, hardlinks, symlinks, xattrs kept)', { sources: ['/app/dist'], dest: '/srv/' }],
    ['a file, to a new name', { sources: ['/app/dist/bundle.js'], dest: '/opt/app.js' }],
    ['a directory with --chown and --chmod', { sources: ['/app/dist'], dest: '/www/', chown: '7:8', chmod: '600' }],
  ];
  for (const [name, c] of planned) {
    it(name, async () => {
      const r = await fromStage(c);
      expect(r.planned).toBe(true);
      expect(r.plannedLayer).toEqual(r.appliedLayer);
    });
  }

  const applied: [string, Case][] = [
    ['a directory two layers merge', { sources: ['/app'], dest: '/srv/merged/' }],
    ['a wildcard', { sources: ['/app/dist/*.js'], dest: '/srv/js/' }],
    ['sources from two layers', { sources: ['/app/lib', '/app/dist'], dest: '/srv/both/' }],
  ];
  for (const [name, c] of applied) {
    it(`leaves to the real copy: ${name}`, async () => {
      const r = await fromStage(c);
      expect(r.planned).toBe(false);
      expect(r.plannedLayer).toEqual(r.appliedLayer);
    });
  }
});

describe('a COPY of a context file changed since the walk', () => {
  /**
   * COPY file.txt /new/ from a context walked before file.txt was rewritten at the same size (only
   * its times and the walk's record of them tell), planned or through a mount.
   */
  async function copyChanged(materialize: boolean): Promise<{ own: string; copy: Promise<unknown> }> {
    const own = await makeContext();
    const walked = await walkContext(own, new Matcher([]));
    await new Promise((r) => setTimeout(r, 20));
    const before = execFileSync('cat', [join(own, 'file.txt')]).toString();
    writeFileSync(
      join(own, 'file.txt'),
      before.replace(/./, (c) => (c === 'x' ? 'y' : 'x')),
    );
    const copy = copyNode({
      store,
      lowerdirs,
      epoch: 0,
      from: {
        kind: 'context',
        dir: own,
        selection: selectSources(walked, { sources: ['file.txt'], dest: '/new/' }),
        index: walked,
      },
      sources: ['file.txt'],
      dest: '/new/',
      ...(materialize ? { materialize } : {}),
    });
    return { own, copy: copy.then((w) => w?.layer) };
  }

  it('fails instead of writing other bytes than the selection was hashed from', async () => {
    const { own, copy } = await copyChanged(false);
    try {
      await expect(copy).rejects.toThrow(
        `layer entry new/file.txt: ${join(own, 'file.txt')} changed while the build read it`,
      );
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('fails the same way when copied through a mount (the copy the planner leaves to it)', async () => {
    const { own, copy } = await copyChanged(true);
    try {
      await expect(copy).rejects.toThrow(
        `the build context ${own} changed while the build read it: file.txt was modified`,
      );
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});
