/** What every detector family provides to the engine. */
import type { Detection, RgbImage } from '../vision/types.js';

export interface Detector {
  /** e.g. "mtcnn@1a2b3c4d5e6f" or "scrfd:scrfd_2.5g_bnkps@…". */
  readonly id: string;
  /** The detector model's id ("mtcnn", "yunet-n", or a bring-your-own file's name): thresholds are keyed by it. */
  readonly modelId: string;
  readonly provider: string;
  /** Detections per frame, in frame pixels, by descending score. */
  detect(frames: RgbImage[]): Promise<Detection[][]>;
  close(): Promise<void>;
}
