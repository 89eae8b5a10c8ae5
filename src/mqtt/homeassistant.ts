/** Home Assistant MQTT discovery: a presence binary_sensor per person per camera, a face-count sensor per camera. */
import type { PersonRef } from '../events/types.js';
import { level, topics, type MqttMessage } from './topics.js';

export interface DiscoveryInput {
  prefix: string;
  discoveryPrefix: string;
  /** Unique id of this facegate node (the MQTT client id). */
  nodeId: string;
  /** Seconds after the last "on" that the presence sensor turns itself off. */
  expireAfterSeconds: number;
  cameras: string[];
  people: PersonRef[];
}

export type DiscoveryMessage = MqttMessage;

/** Discovery configs (to be published retained) for every camera and camera × person. */
export function discoveryMessages(d: DiscoveryInput): DiscoveryMessage[] {
  const node = level(d.nodeId);
  const device = { identifiers: [node], name: 'facegate', manufacturer: 'facegate', model: 'face recognition camera' };
  const availability = { availability_topic: topics.available(d.prefix), payload_available: 'online', payload_not_available: 'offline' };
  const out: DiscoveryMessage[] = [];
  for (const camera of d.cameras) {
    const id = `${node}_${level(camera)}_faces`;
    out.push({
      topic: `${d.discoveryPrefix}/sensor/${id}/config`,
      payload: JSON.stringify({
        name: `${camera} faces`,
        unique_id: id,
        object_id: id,
        state_topic: topics.cameraFaces(d.prefix, camera),
        state_class: 'measurement',
        unit_of_measurement: 'faces',
        icon: 'mdi:face-recognition',
        device,
        ...availability,
      }),
    });
    for (const p of d.people) {
      const pid = `${node}_${level(camera)}_${level(p.id)}`;
      out.push({
        topic: `${d.discoveryPrefix}/binary_sensor/${pid}/config`,
        payload: JSON.stringify({
          name: `${p.name} at ${camera}`,
          unique_id: pid,
          object_id: pid,
          device_class: 'presence',
          state_topic: topics.presence(d.prefix, camera, p.id),
          payload_on: 'on',
          payload_off: 'off',
          // off_delay turns the sensor off by itself; expire_after would make it "unavailable" instead.
          off_delay: d.expireAfterSeconds,
          device,
          ...availability,
        }),
      });
    }
  }
  return out;
}
