import { canonicalJson } from '../graph/hash.js';
import { sha256 } from './digest.js';
import { MEDIA_TYPES } from './media-types.js';
import type { Descriptor } from './manifest.js';

/** Docker's healthcheck extension, durations in nanoseconds, as BuildKit writes it into the config. */
export interface Healthcheck {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/** The runtime part of an image config (`config` in the OCI image config). */
export interface RuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** Docker extensions BuildKit writes; OCI readers ignore them. */
  Healthcheck?: Healthcheck;
  Shell?: string[];
  OnBuild?: string[];
}

export interface HistoryEntry {
  created_by: string;
  comment?: string;
  /** True for metadata-only steps (ENV, CMD, …): no diff_id belongs to them. */
  empty_layer?: boolean;
  /** Defaults to the image's created time (the epoch). */
  created?: string;
}

export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  variant?: string;
  config: RuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history: HistoryEntry[];
}

export interface ImageConfigSpec {
  architecture: string;
  os: string;
  variant?: string;
  /** SOURCE_DATE_EPOCH or the fixed epoch, seconds; becomes `created` of the image and of each history entry. */
  epoch: number;
  config: RuntimeConfig;
  /** Every layer's diff_id, base image layers first. */
  diffIds: string[];
  /** Base history followed by one entry per step; non-empty entries must match diffIds one to one. */
  history: HistoryEntry[];
}

export function epochToRfc3339(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

/** The OCI image config; throws if history and diff_ids disagree, which every reader would reject. */
export function buildImageConfig(spec: ImageConfigSpec): ImageConfig {
  const layered = spec.history.filter((h) => !h.empty_layer).length;
  if (layered !== spec.diffIds.length) {
    throw new Error(`image config: ${spec.diffIds.length} diff_ids but ${layered} history entries with a layer`);
  }
  const created = epochToRfc3339(spec.epoch);
  return {
    created,
    architecture: spec.architecture,
    os: spec.os,
    ...(spec.variant ? { variant: spec.variant } : {}),
    config: spec.config,
    rootfs: { type: 'layers', diff_ids: [...spec.diffIds] },
    history: spec.history.map((h) => ({ ...h, created: h.created ?? created })),
  };
}

/** Canonical bytes of a config and the descriptor the manifest points at. */
export function serializeImageConfig(config: ImageConfig): { bytes: Buffer; descriptor: Descriptor } {
  const bytes = Buffer.from(canonicalJson(config), 'utf8');
  return { bytes, descriptor: { mediaType: MEDIA_TYPES.imageConfig, digest: sha256(bytes), size: bytes.length } };
}
