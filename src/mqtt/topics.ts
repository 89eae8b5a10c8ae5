/**
 * Every MQTT topic facegate uses, in one place.
 *
 * State that belongs to one box (availability, camera status, Home Assistant states) lives under
 * `<prefix>/<applianceId>/...`, so the boxes of a site sharing one prefix never overwrite each other. Event streams
 * (`<prefix>/<camera>/events`, `<prefix>/people/<id>`, `<prefix>/unknown`) keep their site-wide topics, so existing
 * subscribers read every box; each event's payload names its box in `appliance`.
 */

/** One message: a topic and its payload (bytes for images). */
export interface MqttMessage {
  topic: string;
  payload: string | Buffer;
}

/** A safe single topic level: no '/', '+', '#' or control characters. */
export const level = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/** `<prefix>/<applianceId>`: the root of one box's state. */
const box = (prefix: string, appliance: string) => `${prefix}/${level(appliance)}`;
const camera = (prefix: string, appliance: string, cam: string) => `${box(prefix, appliance)}/cameras/${level(cam)}`;

export const topics = {
  /** "online"/"offline", retained; the last will. */
  available: (prefix: string, appliance: string) => `${box(prefix, appliance)}/available`,
  /** {"nonce", "clientId", "reply"} at every connect, not retained: another box answering to it claims the same id. */
  claim: (prefix: string, appliance: string) => `${box(prefix, appliance)}/claim`,
  /** CameraStatus JSON, retained; each camera's own last will says "offline" when the process dies. */
  cameraStatus: (prefix: string, appliance: string, cam: string) => `${camera(prefix, appliance, cam)}/status`,
  /** Faces in view (open tracks), retained; the Home Assistant sensor state. */
  cameraFaces: (prefix: string, appliance: string, cam: string) => `${camera(prefix, appliance, cam)}/faces`,
  /** "on"/"off" while a person is in view at a camera, retained (Home Assistant binary_sensor state). */
  presence: (prefix: string, appliance: string, cam: string, personId: string) => `${camera(prefix, appliance, cam)}/presence/${level(personId)}`,
  /** {"event_type": "known"|"unknown", ...}, not retained (Home Assistant event entity). */
  recognitions: (prefix: string, appliance: string, cam: string) => `${camera(prefix, appliance, cam)}/recognitions`,
  /** JPEG of the latest recognised face, not retained unless asked (Home Assistant image entity). */
  latestFace: (prefix: string, appliance: string, cam: string) => `${camera(prefix, appliance, cam)}/face`,
  /** RecognitionEvent JSON, not retained; every box of the site publishes here. */
  cameraEvents: (prefix: string, cam: string) => `${prefix}/${level(cam)}/events`,
  /** Recognitions of one person, not retained. */
  person: (prefix: string, personId: string) => `${prefix}/people/${level(personId)}`,
  /** Unknown-face events, not retained. */
  unknown: (prefix: string) => `${prefix}/unknown`,
  /** Home Assistant's birth and will messages ("online"/"offline"). */
  homeAssistantStatus: (discoveryPrefix: string) => `${discoveryPrefix}/status`,
};

/**
 * Retained topics of the layout before per-box topics (one shared `<prefix>/available`, `<prefix>/<camera>/status`
 * and `/faces`): cleared once after an upgrade, so they do not say "online" for ever.
 */
export const legacyRetained = (prefix: string, cameras: readonly string[]): string[] => [
  `${prefix}/available`,
  ...cameras.flatMap((c) => [`${prefix}/${level(c)}/status`, `${prefix}/${level(c)}/faces`]),
];
