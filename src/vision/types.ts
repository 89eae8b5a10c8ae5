/** Core value types shared by every stage of the face path. All coordinates are in source-frame pixels. */

/** A decoded RGB image: interleaved, row-major, 3 bytes per pixel, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Point = [x: number, y: number];

/** Axis-aligned box [x1, y1, x2, y2]. */
export type Box = [x1: number, y1: number, x2: number, y2: number];

/**
 * One detected face. Landmarks are always five points in this order:
 * image-left eye, image-right eye, nose tip, image-left mouth corner, image-right mouth corner.
 */
export interface Detection {
  box: Box;
  score: number;
  landmarks: Point[];
}

/** Figures a caller can gate on. Angles in degrees, blur as variance of the Laplacian of the aligned crop. */
export interface FaceQuality {
  /** Shorter side of the box, in frame pixels. */
  size: number;
  /** Detector confidence, 0..1. */
  score: number;
  /** Variance of the Laplacian on the grey aligned crop: low means blurry. */
  blur: number;
  yaw: number;
  pitch: number;
  roll: number;
}

/** A detected, aligned and embedded face. */
export interface Face extends Detection {
  quality: FaceQuality;
  /** The aligned crop (embedder input size, usually 112x112). */
  aligned: RgbImage;
  /** L2-normalised embedding. */
  embedding: Float32Array;
}
