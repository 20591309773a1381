/**
 * A stage's state between nodes: its layers, its image config so far, its history, and its state
 * digest (keys.ts), which is all a later node's cache key needs to know about what came before.
 * A step hands its layer on as soon as the next step can use it; the blob is finished meanwhile.
 */
import type { HistoryEntry } from '../oci/index.js';
import type { ConfigState } from './image-config.js';
import type { Layer, LayerWrite } from './layers.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface StageState {
  /** A layer a step of this build made may still have its blob on the way (layers.ts). */
  layers: readonly (Layer | LayerWrite)[];
  config: ConfigState;
  history: readonly HistoryEntry[];
  digest: string;
  platform: Platform;
  /**
   * The blob writes (each followed by its step's cache record) of every layer this state was made
   * from, its own and those of the stages it copied or mounted from: it is complete once they are.
   */
  pending: readonly Promise<Layer>[];
}

/** A target's state once complete: every layer in the store, as an image needs them. */
export interface ImageState extends Omit<StageState, 'layers'> {
  layers: readonly Layer[];
}
