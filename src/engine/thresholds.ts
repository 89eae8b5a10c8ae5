/**
 * Cosine thresholds at FAR 1e-3 measured with `facegate eval lfw` (full pipeline, default detector), keyed by
 * embedder model id. A model without an entry gets UNMEASURED_THRESHOLD: evaluate it and set match.threshold.
 */
export const MEASURED_THRESHOLDS: Record<string, number> = {
  mobilefacenet: 0.43,
};

/** Used for a bring-your-own model nobody has measured; typical of ArcFace-style embedders. */
export const UNMEASURED_THRESHOLD = 0.35;

export const thresholdFor = (modelId: string): number => MEASURED_THRESHOLDS[modelId] ?? UNMEASURED_THRESHOLD;
