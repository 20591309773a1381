/**
 * A stage's state between nodes: its layers, its image config so far, its history, and its state
 * digest (keys.ts), which is all a later node's cache key needs to know about what came before.
 */
import type { HistoryEntry } from '../oci/index.js';
import type { ConfigState } from './image-config.js';
import type { Layer } from './layers.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface StageState {
  layers: readonly Layer[];
  config: ConfigState;
  history: readonly HistoryEntry[];
  digest: string;
  platform: Platform;
}
