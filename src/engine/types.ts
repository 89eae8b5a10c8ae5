/** What the rest of the appliance sees of the face engine (detect → align → embed). */
import type { Detection, Face, FaceQuality, RgbImage } from '../vision/types.js';
import type { QualityConfig } from '../config/schema.js';

export type RejectReason = 'small' | 'score' | 'blur' | 'pose';

export interface RejectedFace extends Detection {
  quality: FaceQuality;
  reason: RejectReason;
}

/** Result for one frame: faces that passed the quality gate (embedded) and those that did not. */
export interface FrameFaces {
  faces: Face[];
  rejected: RejectedFace[];
}

/** Seconds spent in each stage of one analyze() call, filled in when the caller passes it. */
export interface StageTimes {
  detect: number;
  align: number;
  embed: number;
}

export interface FaceEngine {
  /** Stable id of the embedder model (e.g. "mobilefacenet-v1@sha256:abcd"): samples store it. */
  readonly embedderId: string;
  readonly detectorId: string;
  /** Cosine threshold at FAR 1e-3 measured for this embedder on LFW. */
  readonly defaultThreshold: number;
  /** The execution provider actually in use ("cpu", "cuda", "tensorrt"). */
  readonly provider: string;
  /** How many analyze() calls it runs side by side (engine worker threads); 1 when absent. */
  readonly parallelism?: number;
  /** One batched detector pass over N frames. */
  detect(frames: RgbImage[]): Promise<Detection[][]>;
  /** Detect, align, gate by quality (all figures computed even for rejects), and embed survivors in one batch. */
  analyze(frames: RgbImage[], gate?: Partial<QualityConfig>, times?: StageTimes): Promise<FrameFaces[]>;
  /** Embed already aligned crops (embedder input size), e.g. to re-embed stored samples. */
  embedAligned(crops: RgbImage[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}
