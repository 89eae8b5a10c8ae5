/**
 * Publishes recognitions and camera status to MQTT (mqtt.js).
 * Events go through our own bounded queue (mqtt/queue.ts, journalled to `queueFile`) and leave it only on
 * PUBACK, so neither a broker restart nor a SIGTERM or crash of this process loses what is queued
 * (at-least-once; duplicates possible, the payload's `id` tells them apart). Retained state (status, face counts,
 * discovery) is kept latest-only and re-published on every connect.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/schema.js';
import type { CameraStatus, PersonRef, RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import { FacegateError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import { redactUrl } from '../ingest/ffmpeg.js';
import { discoveryMessages } from './homeassistant.js';
import { DurableQueue } from './queue.js';
import { topics } from './topics.js';

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

export interface PublisherStats {
  connected: boolean;
  /** Events acknowledged by the broker. */
  published: number;
  /** Events waiting in the queue now. */
  queued: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Events found in the queue file at start (queued by an earlier run). */
  replayed: number;
}

interface Message {
  topic: string;
  payload: string;
}
type Group = Message[];

/** Groups in flight at once. */
const WINDOW = 16;
const ACK_TIMEOUT_MS = 30_000;

export class MqttPublisher {
  private client: MqttClient | null = null;
  private readonly queue: DurableQueue<Group>;
  private readonly retained = new Map<string, string>();
  private readonly cameras = new Set<string>();
  private readonly openTracks = new Map<string, Set<string>>();
  private readonly discovery = new Set<string>();
  private readonly loggedErrors = new Set<string>();
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly qos: 0 | 1 | 2;
  private unsubscribe: (() => void)[] = [];
  private isConnected = false;
  private gen = 0;
  private draining = false;
  private disconnected: (() => void) | null = null;
  private published = 0;

  constructor(private readonly opts: PublisherOptions) {
    this.log = (opts.log ?? silentLogger()).child({ unit: 'mqtt' });
    this.queue = new DurableQueue(opts.config.queueLimit, { file: opts.queueFile, onDrop: () => this.onDrop() });
    this.prefix = opts.config.prefix;
    this.qos = opts.config.qos;
  }

  get stats(): PublisherStats {
    return { connected: this.isConnected, published: this.published, queued: this.queue.length, dropped: this.queue.dropped, replayed: this.queue.replayed };
  }

  get clientId(): string {
    return this.opts.config.clientId ?? `facegate-${os.hostname()}`;
  }

  /** Starts connecting in the background; events are queued until the broker answers. */
  start(): void {
    if (this.client) return;
    const c = this.opts.config;
    const url = this.opts.url ?? c.url;
    if (!url) throw new FacegateError('mqtt_no_url', 'no MQTT broker URL: set mqtt.url or start the embedded broker');
    this.queue.open();
    if (this.queue.replayed) this.log.info({ events: this.queue.replayed, file: this.opts.queueFile }, 'queued events of an earlier run replayed');
    const options: IClientOptions = {
      clientId: this.clientId,
      username: c.username,
      password: c.password,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      // A refused CONNACK (e.g. wrong credentials) is retried too: the broker's side may be fixed meanwhile.
      reconnectOnConnackError: true,
      queueQoSZero: false,
      will: { topic: topics.available(this.prefix), payload: Buffer.from('offline'), qos: 1, retain: true },
      ...this.tlsOptions(),
    };
    for (const cam of this.opts.cameras?.() ?? []) this.cameras.add(cam);
    this.unsubscribe.push(
      this.opts.bus.on('recognition', (e) => this.onRecognition(e)),
      this.opts.bus.on('cameraStatus', (s) => this.onStatus(s)),
      this.opts.bus.on('facebankChanged', () => this.publishDiscovery()),
    );
    const client = mqtt.connect(url, options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => {
      // CONNACK 4/5 (MQTT 3.1.1) and 134/135 (MQTT 5): the broker answered but refused who we are.
      const refused = [4, 5, 134, 135].includes(Number((err as { code?: unknown }).code));
      this.logOnce(
        refused
          ? `MQTT broker refused the credentials (${err.message}): check mqtt.username and mqtt.password (or FACEGATE_MQTT_PASSWORD); events are queued and retried`
          : `MQTT error: ${redactUrl(err.message)}`,
      );
    });
    this.log.info({ url: redactUrl(url), clientId: this.clientId }, 'MQTT connecting');
  }

  /** Says "offline" (retained), then disconnects gracefully. Events still queued stay in the queue file. */
  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    const client = this.client;
    if (!client) return;
    if (this.isConnected) {
      await withTimeout(client.publishAsync(topics.available(this.prefix), 'offline', { qos: 1, retain: true }), 3000).catch(() => {});
      await withTimeout(client.endAsync(), 3000).catch(() => client.end(true));
    } else {
      await withTimeout(client.endAsync(true), 3000).catch(() => {});
    }
    this.client = null;
    this.onClose();
    const left = this.queue.length;
    this.queue.close();
    if (left && this.opts.queueFile) this.log.info({ events: left, file: this.opts.queueFile }, 'queued events kept for the next start');
    else if (left) this.log.warn({ events: left }, 'queued events discarded (no queue file)');
  }

  private onDrop() {
    // Logged at the first drop and every 1000th after; all are counted (stats.dropped, /metrics).
    if (this.queue.dropped % 1000 === 1) this.log.warn({ dropped: this.queue.dropped, limit: this.opts.config.queueLimit }, 'event queue full: oldest events dropped');
  }

  private tlsOptions(): Partial<IClientOptions> {
    const t = this.opts.config.tls;
    if (!t) return {};
    const read = (what: string, file?: string) => {
      if (!file) return undefined;
      try {
        return readFileSync(file);
      } catch (e) {
        throw new FacegateError('mqtt_tls_file', `cannot read the MQTT TLS ${what} file ${file}: ${(e as Error).message}`, { cause: e });
      }
    };
    return { ca: read('CA', t.ca), cert: read('certificate', t.cert), key: read('key', t.key), rejectUnauthorized: t.rejectUnauthorized };
  }

  private onConnect() {
    const client = this.client;
    if (!client) return;
    this.gen++;
    this.loggedErrors.clear();
    if (!this.isConnected) {
      this.isConnected = true;
      this.log.info('MQTT connected');
      this.opts.bus.emit('mqttConnection', { connected: true });
    }
    const opts = { qos: 1 as const, retain: true };
    client.publish(topics.available(this.prefix), 'online', opts, () => {});
    for (const s of this.opts.cameraStatus?.() ?? []) this.retained.set(topics.cameraStatus(this.prefix, s.camera), JSON.stringify(s));
    for (const [topic, payload] of this.retained) client.publish(topic, payload, { qos: this.qos, retain: true }, () => {});
    this.publishDiscovery();
    void this.drain(this.gen);
  }

  private onClose() {
    this.disconnected?.();
    this.disconnected = null;
    if (this.isConnected) {
      this.isConnected = false;
      this.log.warn({ queued: this.queue.length }, 'MQTT disconnected; queueing events');
      this.opts.bus.emit('mqttConnection', { connected: false });
    }
  }

  private onRecognition(e: RecognitionEvent) {
    const json = JSON.stringify(e);
    const group: Group = [{ topic: topics.cameraEvents(this.prefix, e.camera), payload: json }];
    group.push({ topic: e.person ? topics.person(this.prefix, e.person.id) : topics.unknown(this.prefix), payload: json });
    if (this.opts.config.homeAssistant.enabled) {
      if (e.person) group.push({ topic: topics.presence(this.prefix, e.camera, e.person.id), payload: e.type === 'end' ? 'off' : 'on' });
      this.countFaces(e);
    }
    this.queue.push(group);
    if (this.isConnected) void this.drain(this.gen);
  }

  private onStatus(s: CameraStatus) {
    const isNew = !this.cameras.has(s.camera);
    this.cameras.add(s.camera);
    this.setRetained(topics.cameraStatus(this.prefix, s.camera), JSON.stringify(s));
    if (isNew) this.publishDiscovery();
  }

  private countFaces(e: RecognitionEvent) {
    let open = this.openTracks.get(e.camera);
    if (!open) this.openTracks.set(e.camera, (open = new Set()));
    const before = open.size;
    if (e.type === 'end') open.delete(e.track);
    else open.add(e.track);
    if (open.size !== before || !this.retained.has(topics.cameraFaces(this.prefix, e.camera)))
      this.setRetained(topics.cameraFaces(this.prefix, e.camera), String(open.size));
  }

  /** Keeps the latest retained value and sends it now if connected (it is re-sent on every connect). */
  private setRetained(topic: string, payload: string) {
    this.retained.set(topic, payload);
    if (this.isConnected) this.client?.publish(topic, payload, { qos: this.qos, retain: true }, () => {});
  }

  private publishDiscovery() {
    const ha = this.opts.config.homeAssistant;
    if (!ha.enabled || !this.client || !this.isConnected) return;
    const msgs = discoveryMessages({
      prefix: this.prefix,
      discoveryPrefix: ha.discoveryPrefix,
      nodeId: this.clientId,
      expireAfterSeconds: ha.expireAfterSeconds,
      cameras: [...this.cameras],
      people: this.opts.people?.() ?? [],
    });
    const now = new Set(msgs.map((m) => m.topic));
    for (const m of msgs) this.client.publish(m.topic, m.payload, { qos: 1, retain: true }, () => {});
    // Entities of people no longer enrolled are removed by an empty retained config.
    for (const old of this.discovery) if (!now.has(old)) this.client.publish(old, '', { qos: 1, retain: true }, () => {});
    this.discovery.clear();
    for (const t of now) this.discovery.add(t);
  }

  /** Sends queued groups in order, a window at a time; a group leaves the queue when all its messages are acked. */
  private async drain(gen: number) {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.isConnected && gen === this.gen && this.queue.length > 0) {
        const client = this.client!;
        const lost = new Promise<'lost'>((r) => (this.disconnected = () => r('lost')));
        const batch = this.queue.peek(WINDOW);
        const sent = batch.map(({ seq, item }) =>
          Promise.all(item.map((m) => client.publishAsync(m.topic, m.payload, { qos: this.qos, retain: false }))).then(
            () => {
              if (this.queue.ack(seq)) this.published++;
            },
            () => {},
          ),
        );
        // A batch not acked in time is sent again (at-least-once), unless the connection went.
        let timer: NodeJS.Timeout | undefined;
        const slow = new Promise<'slow'>((r) => (timer = setTimeout(() => r('slow'), ACK_TIMEOUT_MS)));
        const outcome = await Promise.race([Promise.all(sent), lost, slow]);
        clearTimeout(timer);
        if (outcome === 'lost') break;
      }
    } finally {
      this.draining = false;
    }
    // A connect that came while this loop was finishing starts its own drain.
    if (this.isConnected && gen !== this.gen && this.queue.length > 0) void this.drain(this.gen);
  }

  private logOnce(msg: string) {
    if (this.loggedErrors.has(msg)) return;
    this.loggedErrors.add(msg);
    this.log.warn(msg);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
