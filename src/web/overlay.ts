/** What the page draws over a live frame: each face's box, its label, and whether it is known, unknown or gated out. */
import type { AnnotatedFace } from './ports.js';

export type FaceKind = 'known' | 'unknown' | 'gated';

export interface OverlayFace {
  box: [number, number, number, number];
  label: string | null;
  similarity: number | null;
  kind: FaceKind;
}

/**
 * A face is gated out (too small, blurry or turned away) when the pipeline says so, or, failing that, when it was
 * never matched: the live loop matches every face that passes the quality gate, so only gated faces lack a similarity.
 */
export function overlayFaces(faces: readonly AnnotatedFace[]): OverlayFace[] {
  return faces.map((f) => {
    const similarity = typeof f.similarity === 'number' ? f.similarity : null;
    const gated = f.gated !== undefined ? Boolean(f.gated) : similarity === null && !f.label;
    return {
      box: f.box.map((v) => Math.round(v)) as OverlayFace['box'],
      label: f.label ?? null,
      similarity,
      kind: f.label ? 'known' : gated ? 'gated' : 'unknown',
    };
  });
}
