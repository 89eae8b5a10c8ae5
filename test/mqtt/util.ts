import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { randomUUID } from 'node:crypto';
import { mqttSchema, type MqttConfig } from '../../src/config/schema.js';
import type { CameraStatus, RecognitionEvent } from '../../src/events/types.js';

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** A real subscriber that records everything it receives (into `into`, when given, from the first packet on). */
export async function subscriber(
  url: string,
  filter: string,
  opts: IClientOptions = {},
  into: Received[] = [],
): Promise<{ client: MqttClient; got: Received[] }> {
  const client = mqtt.connect(url, { reconnectPeriod: 200, ...opts });
  const got = into;
  // Attached before the connection: a persistent session's stored messages arrive right after CONNACK.
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => (client.end(true), reject(e));
    client.once('error', failed);
    client.once('connect', () => (client.off('error', failed), resolve()));
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

export const mqttConfig = (over: Record<string, unknown>): MqttConfig => mqttSchema.parse(over);

let n = 0;
export function event(camera: string, person: { id: string; name: string } | null, type: RecognitionEvent['type'] = 'new'): RecognitionEvent {
  const now = new Date().toISOString();
  n++;
  return {
    type,
    id: randomUUID(),
    camera,
    track: `${camera}-${n}`,
    person,
    similarity: person ? 0.71 : 0.2,
    confidence: 0.9,
    box: [10, 20, 110, 140],
    quality: { size: 100, score: 0.99, blur: 120, yaw: 3, pitch: -2, roll: 1 },
    frameTime: now,
    publishTime: now,
    snapshot: null,
  };
}

export const status = (camera: string, state: CameraStatus['state'] = 'online'): CameraStatus => ({
  camera,
  state,
  fps: 5,
  lastFrameTime: new Date().toISOString(),
  restarts: 0,
  framesDropped: 0,
  lastError: null,
});
