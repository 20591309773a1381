/** What a build reports while it runs; the CLI renders these, tests count them. */
export type StepState = 'cached' | 'running' | 'done' | 'failed' | 'skipped';

export interface StepEvent {
  type: 'step';
  image: string;
  stage: string;
  /** 1-based position of the node in its stage, and the stage's node count. */
  index: number;
  total: number;
  /** The instruction as one Dockerfile-like line (secrets appear only as ids). */
  text: string;
  state: StepState;
  /** Wall time of an executed step (done/failed). */
  ms?: number;
}

export interface OutputEvent {
  type: 'output';
  image: string;
  stage: string;
  index: number;
  stream: 'stdout' | 'stderr';
  /** Output of a RUN step, with secret values masked. */
  text: string;
}

export interface PullEvent {
  type: 'pull';
  ref: string;
  digest: string;
}

export type BuildEvent = StepEvent | OutputEvent | PullEvent;
