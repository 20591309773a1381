import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted and undefined fields dropped: the one byte form that definition
 * digests are computed over, so field order in the source never changes a digest.
 */
export function canonicalJson(value: unknown, keep: (key: string) => boolean = () => true): string {
  return JSON.stringify(sortKeys(value, keep));
}

function sortKeys(value: unknown, keep: (key: string) => boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, keep));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // Bytewise key order (UTF-8), as Go's encoding/json writes image configs and manifests.
    for (const key of Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && keep(key)) out[key] = sortKeys(v, keep);
    }
    return out;
  }
  return value;
}

export function digestOf(value: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(value)).digest('hex');
}
