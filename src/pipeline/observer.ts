/** What the pipeline reports as it runs; the metrics module implements it (prom-client), tests may record it. */
import type { Box, RgbImage } from '../vision/types.js';

/** One face of a camera's newest processed frame, as the page draws it. */
export interface LatestBox {
  box: Box;
  /** Decided person's name when this face supports it; null for unknown, undecided, gated-out or unsupported faces. */
  name: string | null;
  /** Same as name (the web page's AnnotatedFace.label). */
  label: string | null;
  /** The face's similarity to the named person (else to its nearest person); null when not embedded. */
  similarity: number | null;
  track: string | null;
}

/** A camera's newest processed frame and its faces. */
export interface LatestFaces {
  time: number;
  /** The frame these boxes were found on (for the annotated camera view). */
  image: RgbImage;
  boxes: LatestBox[];
}

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
