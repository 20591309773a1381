/**
 * Every xattr of each snapshot's entries, kept as a cache record beside the snapshot, so that a
 * process looking paths up in layer directories (oci/lowerdir-view.ts, a planned COPY) asks no
 * getfattr: a process to fork, ~3–6 ms on a build's critical path, for each step that does. A
 * layer never changes once made, so the record, written from the entries the snapshot was made
 * of, stays true of it; a snapshot without one (an older drydock made it) is read with getfattr.
 */
import { declareLayerXattrs, isLayerDeclared, type LayerXattrs } from '../oci/index.js';
import type { Store } from '../store/index.js';

interface Kept {
  /** [path relative to the snapshot, { name: base64 value }], for the entries that have any. */
  entries: [string, Record<string, string>][];
}

const key = (snapshotId: string): string => `layer-xattrs:${snapshotId}`;

/** Records the xattrs of snapshot `id` (at `path`) and tells this process's lookups about them. */
export async function keepLayerXattrs(store: Store, id: string, path: string, xattrs: LayerXattrs): Promise<void> {
  declareLayerXattrs(path, xattrs);
  const entries = [...xattrs].map(([rel, values]): [string, Record<string, string>] => [
    rel,
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, value.toString('base64')])),
  ]);
  await store.putRecord(key(id), { entries } satisfies Kept);
}

/** Tells this process's lookups the xattrs recorded for snapshot `id` (at `path`), if there is a record. */
export async function recallLayerXattrs(store: Store, id: string, path: string): Promise<void> {
  // A stage's layers are asked for at every step: once told, a layer stays told.
  if (isLayerDeclared(path)) return;
  const kept = await store.getRecord<Kept>(key(id));
  if (!kept || !Array.isArray(kept.entries)) return;
  declareLayerXattrs(
    path,
    new Map(
      kept.entries.map(([rel, values]) => [
        rel,
        Object.fromEntries(Object.entries(values).map(([name, value]) => [name, Buffer.from(value, 'base64')])),
      ]),
    ),
  );
}
