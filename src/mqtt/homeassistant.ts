/**
 * Home Assistant MQTT discovery configs, as its MQTT integration reads them (home-assistant/core,
 * homeassistant/components/mqtt: discovery.py's topic pattern, schemas.py's common entity schema with
 * `default_entity_id`, binary_sensor.py, sensor.py, event.py, image.py; see src/mqtt/README.md for the release).
 *
 * One device per appliance; per camera a face-count sensor, an event entity (a known person or an unknown face was
 * recognised) and an image entity (the latest recognised face); per camera × person a presence binary_sensor.
 * Topics are `<discoveryPrefix>/<component>/<applianceId>/<object>/config`, every id `[a-zA-Z0-9_-]`.
 */
import type { PersonRef } from '../events/types.js';
import { topics, type MqttMessage } from './topics.js';

export interface DiscoveryInput {
  prefix: string;
  discoveryPrefix: string;
  /** This box (`[a-zA-Z0-9_-]`): the discovery node id and the root of every unique id. */
  applianceId: string;
  /** Seconds without a message after which Home Assistant shows a state as unavailable (the states are re-sent sooner). */
  expireAfterSeconds: number;
  cameras: readonly string[];
  people: readonly PersonRef[];
}

/** Event types of the per-camera event entity. */
export const EVENT_TYPES = ['known', 'unknown'] as const;

/** `[a-zA-Z0-9_-]` for discovery topic levels and unique ids (discovery.py refuses anything else). */
const idPart = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, '_');

/** An entity id's object part: lower-case `[a-z0-9_]`, accents dropped. */
export function slug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** The discovery topic of one entity. */
export const discoveryTopic = (discoveryPrefix: string, component: string, applianceId: string, object: string): string =>
  `${discoveryPrefix}/${component}/${idPart(applianceId)}/${idPart(object)}/config`;

/** The filter that matches every discovery config of this appliance (to find stale ones). */
export const discoveryFilter = (discoveryPrefix: string, applianceId: string): string => `${discoveryPrefix}/+/${idPart(applianceId)}/+/config`;

/** Discovery configs (to be published retained) for every camera and camera × person. */
export function discoveryMessages(d: DiscoveryInput): MqttMessage[] {
  const node = idPart(d.applianceId);
  const shared = {
    device: { identifiers: [`facegate_${node}`], name: `facegate ${d.applianceId}`, manufacturer: 'facegate', model: 'face recognition appliance' },
    origin: { name: 'facegate' },
    availability_topic: topics.available(d.prefix, d.applianceId),
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const entity = (component: string, object: string, entityObject: string, config: Record<string, unknown>): MqttMessage => ({
    topic: discoveryTopic(d.discoveryPrefix, component, node, object),
    payload: JSON.stringify({
      ...config,
      unique_id: `facegate_${node}_${idPart(object)}`,
      default_entity_id: `${component}.${slug(entityObject) || slug(`facegate ${object}`)}`,
      ...shared,
    }),
  });
  const out: MqttMessage[] = [];
  for (const camera of d.cameras) {
    const cam = idPart(camera);
    out.push(
      entity('sensor', `${cam}_faces`, `${camera} faces`, {
        name: `${camera} faces`,
        state_topic: topics.cameraFaces(d.prefix, d.applianceId, camera),
        state_class: 'measurement',
        unit_of_measurement: 'faces',
        icon: 'mdi:face-recognition',
        expire_after: d.expireAfterSeconds,
      }),
      entity('event', `${cam}_recognitions`, `${camera} recognitions`, {
        name: `${camera} recognitions`,
        state_topic: topics.recognitions(d.prefix, d.applianceId, camera),
        event_types: [...EVENT_TYPES],
        icon: 'mdi:account-search',
      }),
      entity('image', `${cam}_face`, `${camera} latest face`, {
        name: `${camera} latest face`,
        image_topic: topics.latestFace(d.prefix, d.applianceId, camera),
        content_type: 'image/jpeg',
      }),
    );
    for (const p of d.people) {
      out.push(
        entity('binary_sensor', `${cam}_${idPart(p.id)}`, `${p.name} at ${camera}`, {
          name: `${p.name} at ${camera}`,
          device_class: 'presence',
          state_topic: topics.presence(d.prefix, d.applianceId, camera, p.id),
          payload_on: 'on',
          payload_off: 'off',
          // Unavailable when no state came for this long; facegate re-sends every state well before.
          expire_after: d.expireAfterSeconds,
        }),
      );
    }
  }
  return out;
}
