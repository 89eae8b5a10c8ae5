/** What the pipeline reports as it runs; the metrics module implements it (prom-client), tests may record it. */
import type { LatestFaces } from './loop.js';

export type Stage = 'detect' | 'align' | 'embed' | 'match' | 'track' | 'tick';

export interface PipelineObserver {
  /** Seconds one stage took in one tick. */
  stage(stage: Stage, seconds: number): void;
  /** Size of one model run's batch. */
  batch(model: 'detector' | 'embedder', size: number): void;
  /** Faces embedded and matched in one tick. */
  faces(count: number): void;
  /** Frames a camera decoded but the pipeline never processed (newest-frame semantics). */
  framesDropped(camera: string, count: number): void;
  /** Seconds from frame decode to event handed to the bus. */
  eventLatency(seconds: number): void;
  /** Every processed frame's boxes as the live view draws them (name only where the face supports it). */
  frame?(camera: string, faces: LatestFaces): void;
}

export const nullObserver: PipelineObserver = {
  stage() {},
  batch() {},
  faces() {},
  framesDropped() {},
  eventLatency() {},
};
