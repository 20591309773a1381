/**
 * USER names resolved in an image (/etc/passwd, /etc/group), remembered: a RUN step after a
 * source edit sits on a new layer, but its /etc is almost always the base image's. Only layers holding something at `etc` (a directory,
 * a file, a whiteout) can change what /etc/passwd and /etc/group say, so those layers and the user
 * spec are the key. Snapshots are content-addressed and never change, so an entry stays true.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { resolveUser, type ResolvedUser } from '../exec/index.js';
import type { Store } from '../store/index.js';
import { stageFiles, USER_FILES } from './stage-files.js';

const resolved = new Map<string, ResolvedUser>();
/** Entries kept; a long watch session resolves a handful. */
const LIMIT = 256;

export async function userIn(store: Store, lowerdirs: readonly string[], spec: string): Promise<ResolvedUser> {
  const etcLayers = lowerdirs.filter((dir) => lstatSync(join(dir, 'etc'), { throwIfNoEntry: false }) !== undefined);
  const key = `${etcLayers.join('\n')}\0${spec}`;
  const known = resolved.get(key);
  if (known) return known;
  const user = await resolveUser(await stageFiles(store, lowerdirs, USER_FILES), spec);
  if (resolved.size >= LIMIT) resolved.delete(resolved.keys().next().value!);
  resolved.set(key, user);
  return user;
}
