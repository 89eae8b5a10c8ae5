/**
 * One small MQTT connection per camera whose only job is its last will: when this process dies without a goodbye
 * (SIGKILL, power cut), the broker itself rewrites each camera's retained status to "offline", as the main
 * connection's will does for `available`. A graceful stop closes them cleanly (no will); the main connection has
 * already published each camera's last status by then.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/schema.js';
import type { MqttMessage } from './topics.js';
import { credentialOptions } from './transport.js';

export interface CameraWillsOptions {
  config: MqttConfig;
  url: string;
  /** The main connection's client id; each camera's is `<clientId>-will-<camera>`. */
  clientId: string;
  /** The retained message the broker publishes for a camera when the process is gone. */
  will: (camera: string) => MqttMessage;
  reconnectPeriodMs?: number;
}

/** Ends a connection without its will (forced when not connected, or after 3 s). */
const endGracefully = (c: MqttClient) =>
  Promise.race([c.endAsync(!c.connected), new Promise((r) => setTimeout(r, 3000).unref())])
    .then(() => undefined)
    .catch(() => void c.end(true));

export class CameraWills {
  private readonly clients = new Map<string, MqttClient>();
  private stopped = false;

  constructor(private readonly opts: CameraWillsOptions) {}

  /** Opens the camera's will connection unless it has one (connects in the background, retried like the main one). */
  add(camera: string): void {
    if (this.stopped || this.clients.has(camera)) return;
    const w = this.opts.will(camera);
    const client = mqtt.connect(this.opts.url, {
      ...credentialOptions(this.opts.config),
      clientId: `${this.opts.clientId}-will-${camera}`.slice(0, 128),
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      reconnectOnConnackError: true,
      will: { topic: w.topic, payload: Buffer.from(w.payload), qos: 1, retain: true },
    });
    client.on('error', () => {}); // the main connection logs broker problems
    this.clients.set(camera, client);
  }

  /** Closes one camera's will connection gracefully (the camera was removed): no will is published for it. */
  async remove(camera: string): Promise<void> {
    const client = this.clients.get(camera);
    if (!client) return;
    this.clients.delete(camera);
    await endGracefully(client);
  }

  /** Closes every will connection gracefully, so no will is published. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map(endGracefully));
  }

  get cameras(): string[] {
    return [...this.clients.keys()];
  }
}
