/**
 * Publishes recognitions and camera status to MQTT: wires the bus to the transport (mqtt/transport.ts: connection,
 * TLS, durable queue, retained state) through the topic mappers (mqtt/messages.ts). Its retained side
 * (`retained`) is what Home Assistant's face counts and discovery go through (mqtt/homeassistant-publisher.ts).
 */
import os from 'node:os';
import type { MqttConfig } from '../config/schema.js';
import type { CameraStatus, RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import { silentLogger, type Logger } from '../util/log.js';
import { recognitionMessages, statusMessage } from './messages.js';
import type { MqttMessage } from './topics.js';
import { MqttTransport, type TransportStats } from './transport.js';

/** Retained messages over the publisher's connection, for the services that keep state on the broker. */
export interface RetainedChannel {
  readonly connected: boolean;
  readonly clientId: string;
  /** Keeps the latest value and sends it now if connected; re-sent on every connect. */
  setRetained(topic: string, payload: string): void;
  hasRetained(topic: string): boolean;
  /** Sends now, not kept for reconnects; false when not connected. */
  publishRetainedOnce(msgs: readonly MqttMessage[]): boolean;
  /** Called after every (re)connect, once the retained state was re-sent; returns the way to stop. */
  onConnect(listener: () => void): () => void;
}

export interface PublisherOptions {
  config: MqttConfig;
  bus: Bus;
  /** Broker URL; overrides config.url (e.g. the embedded broker's). */
  url?: string;
  log?: Logger;
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
  private readonly prefix: string;
  private readonly connectListeners = new Set<() => void>();
  private unsubscribe: (() => void)[] = [];

  constructor(private readonly opts: PublisherOptions) {
    this.prefix = opts.config.prefix;
    this.transport = new MqttTransport({
      config: opts.config,
      url: opts.url,
      clientId: this.clientId,
      log: (opts.log ?? silentLogger()).child({ unit: 'mqtt' }),
      reconnectPeriodMs: opts.reconnectPeriodMs,
      queueFile: opts.queueFile,
      freshRetained: () => (opts.cameraStatus?.() ?? []).map((s) => statusMessage(this.prefix, s)),
      onConnect: () => {
        for (const l of this.connectListeners) l();
      },
      onConnection: (connected) => opts.bus.emit('mqttConnection', { connected }),
    });
  }

  get stats(): PublisherStats {
    return this.transport.stats;
  }

  get clientId(): string {
    return this.opts.config.clientId ?? `facegate-${os.hostname()}`;
  }

  /** The connection itself, for services that subscribe or keep their own records on the broker (facebank sync). */
  get link(): MqttTransport {
    return this.transport;
  }

  /** The retained side of this connection (Home Assistant uses it). */
  get retained(): RetainedChannel {
    const t = this.transport;
    const listeners = this.connectListeners;
    return {
      get connected() {
        return t.connected;
      },
      clientId: this.clientId,
      setRetained: (topic, payload) => t.setRetained(topic, payload),
      hasRetained: (topic) => t.hasRetained(topic),
      publishRetainedOnce: (msgs) => t.publishRetainedOnce(msgs),
      onConnect: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
  }

  /** Starts connecting in the background; events are queued until the broker answers. */
  start(): void {
    if (this.unsubscribe.length) return;
    this.transport.start();
    this.unsubscribe.push(
      this.opts.bus.on('recognition', (e) => this.onRecognition(e)),
      this.opts.bus.on('cameraStatus', (s) => this.onStatus(s)),
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
    // Home Assistant's presence state goes with the event, sent and acknowledged together.
    this.transport.send(recognitionMessages(this.prefix, e, this.homeAssistant));
  }

  private onStatus(s: CameraStatus) {
    const m = statusMessage(this.prefix, s);
    this.transport.setRetained(m.topic, m.payload);
  }
}
