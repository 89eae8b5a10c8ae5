/** Facebank records as stored in <dataDir>/facebank.json; crops live in <dataDir>/samples/<id>.jpg. */
import type { FaceQuality } from '../vision/types.js';

export interface Person {
  id: string;
  name: string;
  created: string;
  notes: string;
}

export type SampleSource = 'upload' | 'camera' | 'event' | 'unknown' | 'cli';

export interface Sample {
  id: string;
  personId: string;
  /** L2-normalised embedding from model `modelId`. */
  embedding: number[];
  modelId: string;
  quality: FaceQuality;
  source: SampleSource;
  created: string;
  /** A "not this person" sample: the matcher keeps faces like it away from personId. */
  negative: boolean;
}
