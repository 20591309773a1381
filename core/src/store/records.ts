// Cache records: small JSON documents keyed by cache key, one file each in `index/`. The file name is the
// sha256 of the key (keys are arbitrary strings); the key is stored inside, so listing can return it.
import { readFileSync, utimesSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { hasErrno } from './errors.js';
import { recordFileName, type StorePaths } from './paths.js';

export interface StoreRecord<T = unknown> {
  readonly key: string;
  readonly value: T;
  /** When it was last written or used (ms since 1970); set by listRecords. */
  readonly usedAt?: number;
}

export interface StoreWarning {
  readonly code: 'ECORRUPTRECORD';
  readonly message: string;
  readonly path: string;
}

type Warn = (warning: StoreWarning) => void;

const FORMAT = 1;

const parse = (text: string): StoreRecord | undefined => {
  try {
    const doc: unknown = JSON.parse(text);
    if (typeof doc !== 'object' || doc === null) return undefined;
    const { format, key, value } = doc as { format?: unknown; key?: unknown; value?: unknown };
    if (format !== FORMAT || typeof key !== 'string' || !('value' in doc)) return undefined;
    return { key, value };
  } catch {
    return undefined;
  }
};

// Writes are atomic, so a corrupt record means outside damage (disk, hand edits). It is a cache: we
// drop it and report it, and the engine rebuilds. Race note: if another process rewrites the same key
// between our read and our unlink, we remove its fresh record too; the cost is one cache miss.
const readRecord = async (path: string, warn: Warn, expectKey?: string): Promise<StoreRecord | undefined> => {
  let text: string;
  try {
    // In one call, not four thread-pool round trips (see context/index.ts ignorePatterns).
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  const record = parse(text);
  if (record && (expectKey === undefined || record.key === expectKey)) return record;
  await unlink(path).catch(() => {});
  warn({ code: 'ECORRUPTRECORD', message: `removed corrupt cache record ${path}`, path });
  return undefined;
};

export const getRecord = async <T>(paths: StorePaths, key: string, warn: Warn): Promise<T | undefined> =>
  (await readRecord(join(paths.index, recordFileName(key)), warn, key))?.value as T | undefined;

export const putRecord = async (paths: StorePaths, key: string, value: unknown): Promise<void> => {
  const text = JSON.stringify({ format: FORMAT, key, value });
  await writeFileAtomic(paths.tmp, join(paths.index, recordFileName(key)), text);
};

export const listRecords = async (paths: StorePaths, warn: Warn): Promise<StoreRecord[]> => {
  const records: StoreRecord[] = [];
  for (const name of (await readdir(paths.index)).sort()) {
    if (!name.endsWith('.json')) continue;
    const path = join(paths.index, name);
    const record = await readRecord(path, warn);
    const st = record && (await stat(path).catch(() => undefined));
    if (record && st) records.push({ ...record, usedAt: st.mtimeMs });
  }
  return records;
};

/** Marks a record as used now (what age-based pruning goes by); false when there is no such record. */
export const touchRecord = async (paths: StorePaths, key: string): Promise<boolean> => {
  const now = new Date();
  try {
    // In this thread, like the record's read (see readRecord): every cached step touches one.
    utimesSync(join(paths.index, recordFileName(key)), now, now);
    return true;
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return false;
    throw error;
  }
};

/**
 * A record whose content never changes for its key (content-addressed: `pull:<digest>`,
 * `image:<digest>`): written the first time, only touched after, without reading it.
 */
export const keepRecord = async (paths: StorePaths, key: string, value: () => unknown): Promise<void> => {
  if (!(await touchRecord(paths, key))) await putRecord(paths, key, value());
};

export const deleteRecord = async (paths: StorePaths, key: string): Promise<void> => {
  await unlink(join(paths.index, recordFileName(key))).catch((error: unknown) => {
    if (!hasErrno(error, 'ENOENT')) throw error;
  });
};
