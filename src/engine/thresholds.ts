/**
 * Cosine thresholds at FAR 1e-3 measured with `facegate eval lfw` (full pipeline, default detector), keyed by
 * embedder model id. A model without an entry gets UNMEASURED_THRESHOLD: evaluate it and set match.threshold.
 */
export const MEASURED_THRESHOLDS: Record<string, number> = {
  // Default mtcnn (faces from 32 px) + mobilefacenet, LFW 10-fold 99.28 ± 0.42, TAR 97.9 % at FAR 1e-3 (threshold 0.449).
  mobilefacenet: 0.449,
};

/** Used for a bring-your-own model nobody has measured; typical of ArcFace-style embedders. */
export const UNMEASURED_THRESHOLD = 0.35;

/**
 * Thresholds of detector + embedder pairs, keyed "<detector model id>+<embedder model id>": the landmarks a
 * detector gives move the similarities, so a pair measured on its own wins over the embedder's entry.
 */
export const MEASURED_PAIR_THRESHOLDS: Record<string, number> = {
  // Default yunet-n with O-Net landmarks (2 passes) + mobilefacenet, LFW 10-fold 99.32 ± 0.43, TAR 98.1 % at FAR 1e-3.
  'yunet-n+onet+mobilefacenet': 0.443,
};

export const thresholdFor = (modelId: string, detectorModelId?: string): number =>
  (detectorModelId !== undefined ? MEASURED_PAIR_THRESHOLDS[`${detectorModelId}+${modelId}`] : undefined) ?? MEASURED_THRESHOLDS[modelId] ?? UNMEASURED_THRESHOLD;
