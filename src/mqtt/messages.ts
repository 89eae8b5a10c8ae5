/** Bus events → MQTT messages: which topics a recognition and a camera status go to, with which payload. */
import type { CameraStatus, RecognitionEvent } from '../events/types.js';
import { topics } from './topics.js';

/** A text message (events and status are JSON). */
export interface TextMessage {
  topic: string;
  payload: string;
}

/**
 * A recognition's messages, sent (and acknowledged) together: the camera's events topic and the person's (or
 * unknown) topic. The payload is the event with `appliance`, the box that saw it (site-wide topics).
 */
export function recognitionMessages(prefix: string, appliance: string, e: RecognitionEvent): TextMessage[] {
  const json = JSON.stringify({ ...e, appliance });
  return [
    { topic: topics.cameraEvents(prefix, e.camera), payload: json },
    { topic: e.person ? topics.person(prefix, e.person.id) : topics.unknown(prefix), payload: json },
  ];
}

/** A camera's status, retained under this box's topics. */
export const statusMessage = (prefix: string, appliance: string, s: CameraStatus): TextMessage => ({
  topic: topics.cameraStatus(prefix, appliance, s.camera),
  payload: JSON.stringify(s),
});

/** What a camera's status topic says when this process is gone (its last will) or stopped. */
export const goneStatusMessage = (prefix: string, appliance: string, camera: string): TextMessage =>
  statusMessage(prefix, appliance, {
    camera,
    state: 'offline',
    fps: 0,
    lastFrameTime: null,
    restarts: 0,
    framesDropped: 0,
    lastError: 'facegate is not running',
  });
