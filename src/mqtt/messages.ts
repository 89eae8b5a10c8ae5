/** Bus events → MQTT messages: which topics a recognition and a camera status go to, with which payload. */
import type { CameraStatus, RecognitionEvent } from '../events/types.js';
import { topics, type MqttMessage } from './topics.js';

/**
 * A recognition's messages, sent (and acknowledged) together: the camera's events topic, the person's (or
 * unknown) topic, and with `presence` (Home Assistant) the person's on/off presence state at that camera.
 */
export function recognitionMessages(prefix: string, e: RecognitionEvent, presence: boolean): MqttMessage[] {
  const json = JSON.stringify(e);
  const out: MqttMessage[] = [{ topic: topics.cameraEvents(prefix, e.camera), payload: json }];
  out.push({ topic: e.person ? topics.person(prefix, e.person.id) : topics.unknown(prefix), payload: json });
  if (presence && e.person) out.push({ topic: topics.presence(prefix, e.camera, e.person.id), payload: e.type === 'end' ? 'off' : 'on' });
  return out;
}

/** A camera's status, retained. */
export const statusMessage = (prefix: string, s: CameraStatus): MqttMessage => ({ topic: topics.cameraStatus(prefix, s.camera), payload: JSON.stringify(s) });
