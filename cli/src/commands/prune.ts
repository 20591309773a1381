import { pruneStore } from '@drydock/core';
import { flag, stringOption, type Command } from '../context.js';
import { UsageError } from '../usage.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `drydock prune [--all | --older-than DURATION] [--dry-run]`. */
export const prune: Command = async (ctx) => {
  const all = flag(ctx, 'all');
  const olderThan = stringOption(ctx, 'older-than');
  if (all && olderThan !== undefined) throw new UsageError('--all and --older-than exclude each other', 'prune');
  let olderThanMs: number | undefined;
  if (olderThan !== undefined) {
    const m = /^(\d+)([mhd])$/.exec(olderThan);
    if (!m)
      throw new UsageError(`--older-than ${olderThan}: expected a number and a unit, m, h or d (e.g. 7d)`, 'prune');
    olderThanMs = Number(m[1]) * UNITS[m[2]!]!;
  }
  const dryRun = flag(ctx, 'dry-run');
  const r = await pruneStore({ all, ...(olderThanMs !== undefined ? { olderThanMs } : {}), dryRun });
  const mb = (r.freedBytes / 1e6).toFixed(1);
  ctx.out.print(
    `${dryRun ? 'would remove' : 'removed'} ${r.records} cache records, ${r.blobs} blobs, ${r.snapshots} snapshots (${mb} MB)`,
  );
  return 0;
};
