/**
 * Publishes recognitions and camera status to MQTT: wires the bus to the transport (mqtt/transport.ts: connection,
 * TLS, durable queue, retained state) through the topic mappers (mqtt/messages.ts) and, when enabled, the Home
 * Assistant face counts and discovery (mqtt/homeassistant.ts, mqtt/homeassistant-state.ts).
 */
import os from 'node:os';
import type { MqttConfig } from '../config/schema.js';
import type { CameraStatus, PersonRef, RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import { silentLogger, type Logger } from '../util/log.js';
import { discoveryMessages } from './homeassistant.js';
import { DiscoveryState, FaceCounter } from './homeassistant-state.js';
import { recognitionMessages, statusMessage } from './messages.js';
import { MqttTransport, type TransportStats } from './transport.js';

export interface PublisherOptions {
  config: MqttConfig;
  bus: Bus;
  /** Broker URL; overrides config.url (e.g. the embedded broker's). */
  url?: string;
  log?: Logger;
  /** Enrolled people, for Home Assistant discovery. */
  people?: () => PersonRef[];
  /** Configured camera names, for Home Assistant discovery (cameras seen in status are added). */
  cameras?: () => string[];
  /** Live camera status, re-read on every connect so the retained status is never an old copy. */
  cameraStatus?: () => CameraStatus[];
  /** mqtt.js reconnect period, ms. */
  reconnectPeriodMs?: number;
  /** Journal of queued events (e.g. <dataDir>/mqtt-queue.jsonl); without it the queue is lost at exit. */
  queueFile?: string;
}

export type PublisherStats = TransportStats;

export class MqttPublisher {
  private readonly transport: MqttTransport;
  private readonly cameras = new Set<string>();
  private readonly faces: FaceCounter;
  private readonly discovery = new DiscoveryState();
  private readonly prefix: string;
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly opts: PublisherOptions) {
    this.prefix = opts.config.prefix;
    this.faces = new FaceCounter(this.prefix);
    this.transport = new MqttTransport({
      config: opts.config,
      url: opts.url,
      clientId: this.clientId,
      log: (opts.log ?? silentLogger()).child({ unit: 'mqtt' }),
      reconnectPeriodMs: opts.reconnectPeriodMs,
      queueFile: opts.queueFile,
      freshRetained: () => (opts.cameraStatus?.() ?? []).map((s) => statusMessage(this.prefix, s)),
      onConnect: () => this.publishDiscovery(),
      onConnection: (connected) => opts.bus.emit('mqttConnection', { connected }),
    });
  }

  get stats(): PublisherStats {
    return this.transport.stats;
  }

  get clientId(): string {
    return this.opts.config.clientId ?? `facegate-${os.hostname()}`;
  }

  /** Starts connecting in the background; events are queued until the broker answers. */
  start(): void {
    if (this.unsubscribe.length) return;
    this.transport.start();
    for (const cam of this.opts.cameras?.() ?? []) this.cameras.add(cam);
    this.unsubscribe.push(
      this.opts.bus.on('recognition', (e) => this.onRecognition(e)),
      this.opts.bus.on('cameraStatus', (s) => this.onStatus(s)),
      this.opts.bus.on('facebankChanged', () => this.publishDiscovery()),
    );
  }

  /** Says "offline" (retained), then disconnects gracefully. Events still queued stay in the queue file. */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    await this.transport.stop();
  }

  private get homeAssistant(): boolean {
    return this.opts.config.homeAssistant.enabled;
  }

  private onRecognition(e: RecognitionEvent) {
    const group = recognitionMessages(this.prefix, e, this.homeAssistant);
    if (this.homeAssistant) {
      const count = this.faces.update(e, (t) => this.transport.hasRetained(t));
      if (count) this.transport.setRetained(count.topic, count.payload);
    }
    this.transport.send(group);
  }

  private onStatus(s: CameraStatus) {
    const isNew = !this.cameras.has(s.camera);
    this.cameras.add(s.camera);
    const m = statusMessage(this.prefix, s);
    this.transport.setRetained(m.topic, m.payload);
    if (isNew) this.publishDiscovery();
  }

  private publishDiscovery() {
    const ha = this.opts.config.homeAssistant;
    if (!ha.enabled || !this.transport.connected) return;
    const configs = discoveryMessages({
      prefix: this.prefix,
      discoveryPrefix: ha.discoveryPrefix,
      nodeId: this.clientId,
      expireAfterSeconds: ha.expireAfterSeconds,
      cameras: [...this.cameras],
      people: this.opts.people?.() ?? [],
    });
    if (this.transport.publishRetainedOnce(this.discovery.diff(configs))) this.discovery.commit(configs);
  }
}
