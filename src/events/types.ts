/** Payloads that leave the pipeline: MQTT, the web page and `facegate scan` all use these shapes. */
import type { FaceQuality } from '../vision/types.js';

export interface PersonRef {
  id: string;
  name: string;
}

export interface RecognitionEvent {
  type: 'new' | 'update' | 'end';
  /** Unique id of this event. */
  id: string;
  camera: string;
  /** Track id, unique across restarts: "<camera>-<run>-<n>" (run: random per start-up). A track's events share it. */
  track: string;
  /** The decided person, or null for an unknown face. */
  person: PersonRef | null;
  /** Best cosine similarity to the decided person (or to the nearest person for unknowns). */
  similarity: number | null;
  /** Quality-weighted share of the track's votes behind the decision, 0..1. */
  confidence: number;
  box: [number, number, number, number];
  quality: FaceQuality;
  /** ISO time of the frame the decision was made on. */
  frameTime: string;
  /** ISO time the event was handed to the publisher. */
  publishTime: string;
  /** Snapshot id of the best face crop so far; served as /api/snapshots/<id>.jpg. */
  snapshot: string | null;
  /** Seconds from first to last sighting; on "end" events. */
  duration?: number;
}

export interface CameraStatus {
  camera: string;
  state: 'starting' | 'online' | 'offline';
  /** Frames per second actually received, over the last few seconds. */
  fps: number;
  lastFrameTime: string | null;
  restarts: number;
  framesDropped: number;
  /** The last reason ffmpeg gave for failing, in words. */
  lastError: string | null;
}

/** Which match threshold applies and why (computed by match/operating-point.ts). */
export interface OperatingPoint {
  threshold: number;
  /** People with samples of this embedder (the N of 1:N). */
  people: number;
  /** The per-face false-name rate the threshold is chosen for (null when match.threshold is set). */
  targetFpir: number | null;
  source: 'config' | 'facebank-size' | 'one-to-one';
  /**
   * Per-track thresholds on the similarity of a track's mean face by its number of key faces (index k-1, more keys use the
   * last): what names a track (match/track-evidence.ts). Always filled by operatingPoint().
   */
  trackThresholds?: number[];
  /** The facebank is larger than the rule was measured at, so the thresholds are extrapolated. */
  extrapolated?: boolean;
  /** The largest facebank size the rule was measured at (null without a rule). */
  largestMeasured?: number | null;
  /** The rule used: "<detector model>+<embedder model>" or the embedder's (null without a rule). */
  rule?: string | null;
}
