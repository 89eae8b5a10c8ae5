/** Every MQTT topic facegate uses, in one place. */

/** One message: a topic and its payload. */
export interface MqttMessage {
  topic: string;
  payload: string;
}

/** A safe single topic level: no '/', '+', '#' or control characters. */
export const level = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

export const topics = {
  /** "online"/"offline", retained; the last will. */
  available: (prefix: string) => `${prefix}/available`,
  /** RecognitionEvent JSON, not retained. */
  cameraEvents: (prefix: string, camera: string) => `${prefix}/${level(camera)}/events`,
  /** CameraStatus JSON, retained. */
  cameraStatus: (prefix: string, camera: string) => `${prefix}/${level(camera)}/status`,
  /** Faces in view (open tracks), retained; the Home Assistant sensor state. */
  cameraFaces: (prefix: string, camera: string) => `${prefix}/${level(camera)}/faces`,
  /** Recognitions of one person, not retained. */
  person: (prefix: string, personId: string) => `${prefix}/people/${level(personId)}`,
  /** Unknown-face events, not retained. */
  unknown: (prefix: string) => `${prefix}/unknown`,
  /** "on" while a person is seen at a camera (Home Assistant binary_sensor state), not retained. */
  presence: (prefix: string, camera: string, personId: string) => `${prefix}/${level(camera)}/presence/${level(personId)}`,
};
