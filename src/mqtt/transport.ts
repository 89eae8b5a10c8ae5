/**
 * The MQTT transport (mqtt.js): connection, TLS files, reconnects, the last will, and the two kinds of traffic.
 * Events go through our own bounded queue (mqtt/queue.ts, journalled to `queueFile`) and leave it only on
 * PUBACK, so neither a broker restart nor a SIGTERM or crash of this process loses what is queued
 * (at-least-once; duplicates possible, the payload's `id` tells them apart). Retained state is kept latest-only
 * and re-published on every connect. What goes on which topic is the mappers' job (mqtt/messages.ts,
 * mqtt/homeassistant.ts); this file only carries messages.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttConfig } from '../config/schema.js';
import { FacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { redactUrl } from '../util/redact.js';
import { DurableQueue } from './queue.js';
import type { StorageReporter } from '../store/storage-health.js';
import type { MqttMessage } from './topics.js';

/** Messages queued together and acknowledged together (one event's topics); text, as the queue journals them. */
export type Group = { topic: string; payload: string }[];

/** What a subscriber hands to `subscribe`: a function for each message, or that and a call when the broker acks. */
export interface SubscriptionHandler {
  onMessage: MessageHandler;
  /** After the broker acknowledged the subscription, on every (re)connect. */
  onSubscribed?(): void;
}

/** Called for each message on a subscribed filter. */
export type MessageHandler = (topic: string, payload: Buffer, retained: boolean) => void;

export interface TransportOptions {
  config: MqttConfig;
  /** Broker URL; overrides config.url (e.g. the embedded broker's). */
  url?: string;
  clientId: string;
  /** "online"/"offline" of this box, retained; the last will. */
  availabilityTopic: string;
  log: Logger;
  /** mqtt.js reconnect period, ms. */
  reconnectPeriodMs?: number;
  /** Journal of queued events (e.g. <dataDir>/mqtt-queue.jsonl); without it the queue is lost at exit. */
  queueFile?: string;
  /** Where a queue file the disk refuses is reported (the queue goes on in memory). */
  storage?: StorageReporter;
  /** Retained values read afresh on every connect, before the retained state is re-published. */
  freshRetained?: () => MqttMessage[];
  /** Retained messages sent on a graceful stop, before "offline" (e.g. each camera's status saying so). */
  stopping?: () => MqttMessage[];
  /** Called on every connect, after the retained state went out (e.g. Home Assistant discovery). */
  onConnect?: () => void;
  /** Called when the connection comes or goes (not on every reconnect attempt). */
  onConnection?: (connected: boolean) => void;
}

export interface TransportStats {
  connected: boolean;
  /** Events acknowledged by the broker. */
  published: number;
  /** Events waiting in the queue now. */
  queued: number;
  /** Events dropped because the queue was full. */
  dropped: number;
  /** Events found in the queue file at start (queued by an earlier run). */
  replayed: number;
  /** Connections the broker took away because another client connected with the same client id. */
  takenOver: number;
}

/** Groups in flight at once. */
const WINDOW = 16;
const ACK_TIMEOUT_MS = 30_000;
/** Under MQTT 3.1.1 the broker just closes: a session shorter than this, this many times in a row, is a take-over. */
const SHORT_SESSION_MS = 5000;
const SHORT_SESSIONS = 3;

export class MqttTransport {
  private client: MqttClient | null = null;
  private readonly queue: DurableQueue<Group>;
  private readonly retained = new Map<string, string | Buffer>();
  private readonly loggedErrors = new Set<string>();
  private readonly qos: 0 | 1 | 2;
  private isConnected = false;
  private gen = 0;
  private draining = false;
  private disconnected: (() => void) | null = null;
  private published = 0;
  private readonly subscriptions = new Set<{ filter: string; handler: SubscriptionHandler }>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private connectedAt = 0;
  private shortSessions = 0;
  private takenOver = 0;
  private takeOverLogged = false;

  constructor(private readonly opts: TransportOptions) {
    this.queue = new DurableQueue(opts.config.queueLimit, { file: opts.queueFile, storage: opts.storage, onDrop: () => this.onDrop() });
    this.qos = opts.config.qos;
  }

  get stats(): TransportStats {
    return {
      connected: this.isConnected,
      published: this.published,
      queued: this.queue.length,
      dropped: this.queue.dropped,
      replayed: this.queue.replayed,
      takenOver: this.takenOver,
    };
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Starts connecting in the background; events are queued until the broker answers. */
  start(): void {
    if (this.client) return;
    const c = this.opts.config;
    const url = this.opts.url ?? c.url;
    if (!url) throw new FacegateError('mqtt_no_url', 'no MQTT broker URL: set mqtt.url or start the embedded broker');
    this.queue.open();
    if (this.queue.replayed) this.opts.log.info({ events: this.queue.replayed, file: this.opts.queueFile }, 'queued events of an earlier run replayed');
    const options: IClientOptions = {
      ...credentialOptions(c),
      clientId: this.opts.clientId,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      // A refused CONNACK (e.g. wrong credentials) is retried too: the broker's side may be fixed meanwhile.
      reconnectOnConnackError: true,
      queueQoSZero: false,
      // Subscriptions are made again in onConnect (clean session), so mqtt.js need not replay them.
      resubscribe: false,
      will: { topic: this.opts.availabilityTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    const client = mqtt.connect(url, options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, packet.retain));
    // mqtt.js takes only acks as signs of life and pings otherwise; a client receiving thousands of retained
    // messages on a busy CPU would time out on the pong, reconnect and receive them all again.
    client.on('packetreceive', (packet) => packet.cmd === 'publish' && client.reschedulePing());
    client.on('error', (err) => {
      // CONNACK 4/5 (MQTT 3.1.1): the broker answered but refused who we are.
      const refused = [4, 5].includes(Number((err as { code?: unknown }).code));
      this.logOnce(
        refused
          ? `MQTT broker refused the credentials (${err.message}): check mqtt.username and mqtt.password (or FACEGATE_MQTT_PASSWORD); events are queued and retried`
          : `MQTT error: ${redactUrl(err.message)}`,
      );
    });
    this.opts.log.info({ url: redactUrl(url), clientId: this.opts.clientId }, 'MQTT connecting');
  }

  /** Says "offline" (retained), then disconnects gracefully. Events still queued stay in the queue file. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    if (this.isConnected) {
      const last = (this.opts.stopping?.() ?? []).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1, retain: true }));
      await withTimeout(Promise.all(last), 3000).catch(() => {});
      await withTimeout(client.publishAsync(this.opts.availabilityTopic, 'offline', { qos: 1, retain: true }), 3000).catch(() => {});
      await withTimeout(client.endAsync(), 3000).catch(() => client.end(true));
    } else {
      await withTimeout(client.endAsync(true), 3000).catch(() => {});
    }
    this.client = null;
    this.onClose();
    const left = this.queue.length;
    this.queue.close();
    if (left && this.opts.queueFile) this.opts.log.info({ events: left, file: this.opts.queueFile }, 'queued events kept for the next start');
    else if (left) this.opts.log.warn({ events: left }, 'queued events discarded (no queue file)');
  }

  /** Queues one event's messages (not retained); they are sent in order and leave the queue when all are acked. */
  send(group: Group): void {
    this.queue.push(group);
    if (this.isConnected) void this.drain(this.gen);
  }

  /** Keeps the latest retained value and sends it now if connected (it is re-sent on every connect). */
  setRetained(topic: string, payload: string | Buffer): void {
    this.retained.set(topic, payload);
    if (this.isConnected) this.client?.publish(topic, payload, { qos: this.qos, retain: true }, () => {});
  }

  /** Drops a retained value kept for reconnects (the topic itself is left as it is on the broker). */
  forgetRetained(topic: string): void {
    this.retained.delete(topic);
  }

  // --- subscriptions and direct publishes (for services that keep their own state on the broker: Home Assistant, sync)

  /**
   * Subscribes to `filter` at QoS 1 now (if connected) and again on every connect; returns the way to stop. The
   * handler sees every message whose topic matches the filter (with its retained flag).
   */
  subscribe(filter: string, handler: SubscriptionHandler | MessageHandler): () => void {
    const sub = { filter, handler: typeof handler === 'function' ? { onMessage: handler } : handler };
    this.subscriptions.add(sub);
    if (this.client && this.isConnected) this.subscribeOne(this.client, sub);
    return () => {
      if (!this.subscriptions.delete(sub)) return;
      const stillWanted = [...this.subscriptions].some((s) => s.filter === filter);
      if (!stillWanted && this.client && this.isConnected) this.client.unsubscribe(filter, () => {});
    };
  }

  /** Publishes at QoS 1 now; resolves on PUBACK, rejects when not connected (nothing is kept for later). */
  async publishNow(topic: string, payload: Buffer | string, opts: { retain: boolean }): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected) throw new Error('MQTT not connected');
    await client.publishAsync(topic, payload, { qos: 1, retain: opts.retain });
  }

  /** Called when the connection comes (true) or goes (false); returns the way to stop. */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private subscribeOne(client: MqttClient, sub: { filter: string; handler: SubscriptionHandler }): void {
    client.subscribe(sub.filter, { qos: 1 }, (err) => {
      if (err) return this.logOnce(`MQTT subscribe to ${sub.filter} failed: ${err.message}`);
      if (this.subscriptions.has(sub)) sub.handler.onSubscribed?.();
    });
  }

  private dispatch(topic: string, payload: Buffer, retained: boolean): void {
    for (const { filter, handler } of this.subscriptions) if (topicMatches(filter, topic)) handler.onMessage(topic, payload, retained);
  }
  // --- end subscriptions and direct publishes

  hasRetained(topic: string): boolean {
    return this.retained.has(topic);
  }

  /** Sends retained messages at QoS 1 now, not kept for reconnects (their owner re-sends them); false when not connected. */
  publishRetainedOnce(msgs: readonly MqttMessage[]): boolean {
    return this.sendNow(msgs, true);
  }

  /** Sends messages at QoS 1 now, neither retained nor queued (live-only, e.g. Home Assistant events); false when not connected. */
  publishLive(msgs: readonly MqttMessage[]): boolean {
    return this.sendNow(msgs, false);
  }

  private sendNow(msgs: readonly MqttMessage[], retain: boolean): boolean {
    const client = this.client;
    if (!client || !this.isConnected) return false;
    for (const m of msgs) client.publish(m.topic, m.payload, { qos: 1, retain }, () => {});
    return true;
  }

  private onDrop() {
    // Logged at the first drop and every 1000th after; all are counted (stats.dropped, /metrics).
    if (this.queue.dropped % 1000 === 1)
      this.opts.log.warn({ dropped: this.queue.dropped, limit: this.opts.config.queueLimit }, 'event queue full: oldest events dropped');
  }

  private onConnect() {
    const client = this.client;
    if (!client) return;
    this.gen++;
    this.loggedErrors.clear();
    this.connectedAt = Date.now();
    if (!this.isConnected) {
      this.isConnected = true;
      this.opts.log.info('MQTT connected');
      this.opts.onConnection?.(true);
      for (const l of this.connectionListeners) l(true);
    }
    const opts = { qos: 1 as const, retain: true };
    client.publish(this.opts.availabilityTopic, 'online', opts, () => {});
    for (const m of this.opts.freshRetained?.() ?? []) this.retained.set(m.topic, m.payload);
    for (const [topic, payload] of this.retained) client.publish(topic, payload, { qos: this.qos, retain: true }, () => {});
    this.opts.onConnect?.();
    for (const sub of this.subscriptions) this.subscribeOne(client, sub);
    void this.drain(this.gen);
  }

  private onClose() {
    this.disconnected?.();
    this.disconnected = null;
    if (this.connectedAt) {
      const lasted = Date.now() - this.connectedAt;
      this.connectedAt = 0;
      // A broker taking the session for another client with our id closes us right after each connect.
      if (lasted < SHORT_SESSION_MS && this.client) {
        this.shortSessions++;
        if (this.shortSessions === SHORT_SESSIONS) this.onTakenOver(SHORT_SESSIONS);
        else if (this.shortSessions > SHORT_SESSIONS) this.onTakenOver(1);
      } else this.shortSessions = 0;
    }
    if (this.isConnected) {
      this.isConnected = false;
      this.opts.log.warn({ queued: this.queue.length }, 'MQTT disconnected; queueing events');
      this.opts.onConnection?.(false);
      for (const l of this.connectionListeners) l(false);
    }
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

  private onTakenOver(count: number) {
    this.takenOver += count;
    if (this.takeOverLogged) return;
    this.takeOverLogged = true;
    this.opts.log.error(
      { clientId: this.opts.clientId, takenOver: this.takenOver },
      `the MQTT broker keeps closing this connection right after accepting it: most likely another client uses the same client id "${this.opts.clientId}" (two appliances with one mqtt.clientId, or a copied data directory from an older facegate); give each appliance its own mqtt.clientId, or remove mqtt.clientId to use the appliance id`,
    );
  }

  private logOnce(msg: string) {
    if (this.loggedErrors.has(msg)) return;
    this.loggedErrors.add(msg);
    this.opts.log.warn(msg);
  }
}

/** The user name, password and TLS files of `config`, for every connection facegate makes to its broker. */
export function credentialOptions(c: MqttConfig): Partial<IClientOptions> {
  const base: Partial<IClientOptions> = { username: c.username, password: c.password };
  const t = c.tls;
  if (!t) return base;
  const read = (what: string, file?: string) => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new FacegateError('mqtt_tls_file', `cannot read the MQTT TLS ${what} file ${file}: ${(e as Error).message}`, { cause: e });
    }
  };
  return { ...base, ca: read('CA', t.ca), cert: read('certificate', t.cert), key: read('key', t.key), rejectUnauthorized: t.rejectUnauthorized };
}

/** True when `topic` matches the MQTT filter (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
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
