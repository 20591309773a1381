/**
 * What a watch session reports. `--progress json` prints each as one JSON object per line, so
 * editors and scripts can follow the loop; the `event` field names the kind.
 */
import type { BuildEvent } from '../engine/events.js';

/** Where one cycle's time went, in ms: file event → build start → hash → solve → layer write → export → (re)start. */
export interface CycleTimings {
  /** From the burst's first file event until the build started (debounce and config reload). */
  waitMs: number;
  hashMs: number;
  solveMs: number;
  layerMs: number;
  exportMs: number;
  /** Restarting the container or the on-build command. */
  restartMs: number;
}

export type WatchEvent =
  /** What is watched now (config files and context directories). */
  | { event: 'watching'; paths: string[] }
  | { event: 'change'; cycle: number; paths: string[] }
  | { event: 'config-reloaded'; cycle: number }
  /** The config failed to load or compile; the last good build stays in place. */
  | { event: 'config-error'; cycle: number; error: string }
  | { event: 'build-started'; cycle: number; images: string[] }
  | { event: 'step'; cycle: number; step: BuildEvent }
  | {
      event: 'build-finished';
      cycle: number;
      image: string;
      digest: string;
      /** From the first file event of the burst to this event (the first build: from its start). */
      durationMs: number;
      /** Steps that executed (`stage#n`); the others came from the cache. */
      rebuilt: string[];
      timings: CycleTimings;
    }
  | { event: 'build-failed'; cycle: number; image?: string; error: string }
  /** A newer change arrived: the build was stopped and a new one follows. */
  | { event: 'build-cancelled'; cycle: number; reason: string }
  | { event: 'container-started'; image: string; digest: string }
  | { event: 'container-output'; image: string; stream: 'stdout' | 'stderr'; text: string }
  | { event: 'container-exited'; image: string; exitCode: number }
  | { event: 'hook-output'; stream: 'stdout' | 'stderr'; text: string }
  | { event: 'hook-exited'; exitCode: number }
  | { event: 'error'; error: string };
