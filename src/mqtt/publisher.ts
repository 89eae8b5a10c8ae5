/**
 * Publishes recognitions and camera status to MQTT: wires the bus to the transport (mqtt/transport.ts: connection,
 * TLS, durable queue, retained state) through the topic mappers (mqtt/messages.ts). Its retained side
 * (`retained`) is what Home Assistant's states and discovery go through (mqtt/homeassistant-publisher.ts).
 */
import type { MqttConfig } from '../config/schema.js';
import type { CameraStatus, RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../util/log.js';
import { goneStatusMessage, recognitionMessages, statusMessage } from './messages.js';
import { legacyRetained, topics, type MqttMessage } from './topics.js';
import { MqttTransport, type MessageHandler, type TransportStats } from './transport.js';
import { CameraWills } from './wills.js';
import type { StorageReporter } from '../store/storage-health.js';

/** Retained messages and subscriptions over the publisher's connection, for the services that keep state on the broker. */
export interface RetainedChannel {
  readonly connected: boolean;
  /** This box's id in topics and Home Assistant ids (`[a-zA-Z0-9_-]`). */
  readonly applianceId: string;
  /** Keeps the latest value and sends it now if connected; re-sent on every connect. */
  setRetained(topic: string, payload: string | Buffer): void;
  hasRetained(topic: string): boolean;
  /** Stops re-sending a value on connect. */
  forgetRetained(topic: string): void;
  /** Sends now, not kept for reconnects; false when not connected. */
  publishRetainedOnce(msgs: readonly MqttMessage[]): boolean;
  /** Sends now, not retained, not queued; false when not connected. */
  publishLive(msgs: readonly MqttMessage[]): boolean;
  /** Subscribes now and after every reconnect; returns the way to stop. */
  subscribe(filter: string, handler: MessageHandler): () => void;
  /** Called after every (re)connect, once the retained state was re-sent; returns the way to stop. */
  onConnect(listener: () => void): () => void;
}

export interface PublisherOptions {
  config: MqttConfig;
  bus: Bus;
  /** This box's id (src/store/identity.ts): its topics, and the client id unless mqtt.clientId is set. */
  applianceId: string;
  /** Broker URL; overrides config.url (e.g. the embedded broker's). */
  url?: string;
  log?: Logger;
  /** Live camera status, re-read on every connect so the retained status is never an old copy. */
  cameraStatus?: () => CameraStatus[];
  /** mqtt.js reconnect period, ms. */
  reconnectPeriodMs?: number;
  /** Journal of queued events (e.g. <dataDir>/mqtt-queue.jsonl); without it the queue is lost at exit. */
  queueFile?: string;
  /** Where a queue file the disk refuses is reported (the queue goes on in memory). */
  storage?: StorageReporter;
}

export interface PublisherStats extends TransportStats {
  /** Claims of this appliance id heard from another process (two boxes with one id). */
  idConflicts: number;
}

export class MqttPublisher {
  private readonly transport: MqttTransport;
  private wills: CameraWills | null = null;
  private readonly connectListeners = new Set<() => void>();
  private unsubscribe: (() => void)[] = [];
  private readonly log: Logger;
  /** This run's token in claims of the appliance id. */
  private readonly nonce = randomBytes(8).toString('hex');
  private idConflicts = 0;
  /** Old-layout retained topics already emptied this run ('' for the shared availability, else camera names). */
  private readonly legacyCleared = new Set<string>();

  constructor(private readonly opts: PublisherOptions) {
    const { config, bus, applianceId } = opts;
    this.log = (opts.log ?? silentLogger()).child({ unit: 'mqtt' });
    this.transport = new MqttTransport({
      config,
      url: opts.url,
      clientId: this.clientId,
      availabilityTopic: topics.available(config.prefix, applianceId),
      log: this.log,
      reconnectPeriodMs: opts.reconnectPeriodMs,
      queueFile: opts.queueFile,
      storage: opts.storage,
      freshRetained: () => (opts.cameraStatus?.() ?? []).map((s) => statusMessage(config.prefix, applianceId, s)),
      stopping: () => (this.wills?.cameras ?? []).map((camera) => goneStatusMessage(config.prefix, applianceId, camera)),
      onConnect: () => {
        this.claim(false);
        this.clearLegacy((opts.cameraStatus?.() ?? []).map((s) => s.camera));
        for (const l of this.connectListeners) l();
      },
      onConnection: (connected) => bus.emit('mqttConnection', { connected }),
    });
  }

  get stats(): PublisherStats {
    return { ...this.transport.stats, idConflicts: this.idConflicts };
  }

  get clientId(): string {
    return this.opts.config.clientId ?? `facegate-${this.opts.applianceId}`;
  }

  get applianceId(): string {
    return this.opts.applianceId;
  }

  private get prefix(): string {
    return this.opts.config.prefix;
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
      applianceId: this.opts.applianceId,
      setRetained: (topic, payload) => t.setRetained(topic, payload),
      hasRetained: (topic) => t.hasRetained(topic),
      forgetRetained: (topic) => t.forgetRetained(topic),
      publishRetainedOnce: (msgs) => t.publishRetainedOnce(msgs),
      publishLive: (msgs) => t.publishLive(msgs),
      subscribe: (filter, handler) => t.subscribe(filter, handler),
      onConnect: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    };
  }

  /** Starts connecting in the background; events are queued until the broker answers. */
  start(): void {
    if (this.unsubscribe.length) return;
    const { config, bus, applianceId } = this.opts;
    this.transport.start();
    const url = this.opts.url ?? config.url;
    if (url) {
      const will = (camera: string) => goneStatusMessage(this.prefix, applianceId, camera);
      this.wills = new CameraWills({ config, url, clientId: this.clientId, will, reconnectPeriodMs: this.opts.reconnectPeriodMs });
      for (const s of this.opts.cameraStatus?.() ?? []) this.wills.add(s.camera);
    }
    this.unsubscribe.push(
      this.transport.subscribe(topics.claim(this.prefix, applianceId), (_t, payload) => this.onClaim(payload)),
      bus.on('recognition', (e) => this.onRecognition(e)),
      bus.on('cameraStatus', (s) => this.onStatus(s)),
      bus.on('cameraRemoved', ({ camera }) => void this.onRemoved(camera)),
    );
  }

  /** Says each camera and the box "offline" (retained), then disconnects gracefully. Queued events stay in the queue file. */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    await this.transport.stop();
    await this.wills?.stop();
    this.wills = null;
  }

  /** Once a run: empties the retained topics of the layout before per-box topics (the shared availability, each camera's). */
  private clearLegacy(cameras: readonly string[]) {
    const todo = ['', ...cameras].filter((c) => !this.legacyCleared.has(c));
    if (!todo.length) return;
    const topicsOf = (c: string) => (c === '' ? legacyRetained(this.prefix, []) : legacyRetained(this.prefix, [c]).slice(1));
    if (!this.transport.publishRetainedOnce(todo.flatMap(topicsOf).map((topic) => ({ topic, payload: '' })))) return;
    for (const c of todo) this.legacyCleared.add(c);
  }

  /** Says "this id is mine" on the claim topic; another process with the same id hears it (and answers once). */
  private claim(reply: boolean) {
    const payload = JSON.stringify({ nonce: this.nonce, clientId: this.clientId, reply });
    this.transport.publishLive([{ topic: topics.claim(this.prefix, this.opts.applianceId), payload }]);
  }

  private onClaim(payload: Buffer) {
    let c: { nonce?: unknown; clientId?: unknown; reply?: unknown };
    try {
      c = JSON.parse(payload.toString()) as typeof c;
    } catch {
      return;
    }
    if (c.nonce === this.nonce || typeof c.nonce !== 'string') return;
    this.idConflicts++;
    if (this.idConflicts === 1)
      this.log.error(
        { appliance: this.opts.applianceId, other: c.clientId },
        `another appliance on this broker uses the appliance id "${this.opts.applianceId}": the two overwrite each other's status, Home Assistant entities and sync records; remove sync.applianceId from one of them (each then keeps its own install id), or delete appliance.json in the data directory of a copied one`,
      );
    if (c.reply !== true) this.claim(true);
  }

  private onRecognition(e: RecognitionEvent) {
    this.transport.send(recognitionMessages(this.prefix, this.opts.applianceId, e));
  }

  /** A removed camera: its will connection closes (no will) and its retained status is cleared. */
  private async onRemoved(camera: string) {
    const { topic } = goneStatusMessage(this.prefix, this.opts.applianceId, camera);
    this.transport.forgetRetained(topic);
    await this.wills?.remove(camera);
    this.transport.publishRetainedOnce([{ topic, payload: '' }]);
  }

  private onStatus(s: CameraStatus) {
    this.wills?.add(s.camera);
    this.clearLegacy([s.camera]);
    const m = statusMessage(this.prefix, this.opts.applianceId, s);
    this.transport.setRetained(m.topic, m.payload);
  }
}
