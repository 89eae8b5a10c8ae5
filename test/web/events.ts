import type { RecognitionEvent } from '../../src/events/types.js';

/** A recognition event as the pipeline would emit it, with `over` applied; ids are random per call. */
export function recognitionEvent(over: Partial<RecognitionEvent> = {}): RecognitionEvent {
  const now = new Date().toISOString();
  return {
    type: 'new',
    id: `ev-${Math.random().toString(36).slice(2)}`,
    camera: 'door',
    track: `door-${Math.floor(Math.random() * 1e9)}`,
    person: null,
    similarity: 0.3,
    confidence: 1,
    box: [10, 10, 60, 60],
    quality: { size: 50, score: 0.9, blur: 100, yaw: 0, pitch: 0, roll: 0 },
    frameTime: now,
    publishTime: now,
    snapshot: null,
    ...over,
  };
}

/**
 * An unknown face's events with sequential ids (e1, e2, …, tracks door-1, door-2, …) and a small face, for tests
 * whose assertions read the ids; each call starts its own count.
 */
export function sequentialEvents(): (over?: Partial<RecognitionEvent>) => RecognitionEvent {
  let n = 0;
  return (over = {}) => {
    n++;
    return recognitionEvent({
      id: `e${n}`,
      track: `door-${n}`,
      similarity: null,
      box: [0, 0, 10, 10],
      quality: { size: 10, score: 1, blur: 50, yaw: 0, pitch: 0, roll: 0 },
      ...over,
    });
  };
}
