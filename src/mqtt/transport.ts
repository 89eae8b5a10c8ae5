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
import { topics, type MqttMessage } from './topics.js';

/** Messages queued together and acknowledged together (one event's topics). */
export type Group = MqttMessage[];

export interface TransportOptions {
  config: MqttConfig;
  /** Broker URL; overrides config.url (e.g. the embedded broker's). */
  url?: string;
  clientId: string;
  log: Logger;
  /** mqtt.js reconnect period, ms. */
  reconnectPeriodMs?: number;
  /** Journal of queued events (e.g. <dataDir>/mqtt-queue.jsonl); without it the queue is lost at exit. */
  queueFile?: string;
  /** Retained values read afresh on every connect, before the retained state is re-published. */
  freshRetained?: () => MqttMessage[];
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
}

/** What a subscriber hands to `subscribe`. */
export interface SubscriptionHandler {
  onMessage(topic: string, payload: Buffer): void;
  /** After the broker acknowledged the subscription, on every (re)connect. */
  onSubscribed?(): void;
}

/** Groups in flight at once. */
const WINDOW = 16;
const ACK_TIMEOUT_MS = 30_000;

export class MqttTransport {
  private client: MqttClient | null = null;
  private readonly queue: DurableQueue<Group>;
  private readonly retained = new Map<string, string>();
  private readonly loggedErrors = new Set<string>();
  private readonly prefix: string;
  private readonly qos: 0 | 1 | 2;
  private isConnected = false;
  private gen = 0;
  private draining = false;
  private disconnected: (() => void) | null = null;
  private published = 0;
  private readonly subscriptions = new Set<{ filter: string; handler: SubscriptionHandler }>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();

  constructor(private readonly opts: TransportOptions) {
    this.queue = new DurableQueue(opts.config.queueLimit, { file: opts.queueFile, onDrop: () => this.onDrop() });
    this.prefix = opts.config.prefix;
    this.qos = opts.config.qos;
  }

  get stats(): TransportStats {
    return { connected: this.isConnected, published: this.published, queued: this.queue.length, dropped: this.queue.dropped, replayed: this.queue.replayed };
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
      clientId: this.opts.clientId,
      username: c.username,
      password: c.password,
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      // A refused CONNACK (e.g. wrong credentials) is retried too: the broker's side may be fixed meanwhile.
      reconnectOnConnackError: true,
      queueQoSZero: false,
      // Subscriptions are made again by subscribeAll() on every connect, so their owners learn when each is acked.
      resubscribe: false,
      will: { topic: topics.available(this.prefix), payload: Buffer.from('offline'), qos: 1, retain: true },
      ...this.tlsOptions(),
    };
    const client = mqtt.connect(url, options);
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('message', (topic, payload) => this.dispatch(topic, payload));
    // mqtt.js takes only acks as signs of life and pings otherwise; a client receiving thousands of retained
    // messages on a busy CPU would time out on the pong, reconnect and receive them all again.
    client.on('packetreceive', (packet) => packet.cmd === 'publish' && client.reschedulePing());
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
    this.opts.log.info({ url: redactUrl(url), clientId: this.opts.clientId }, 'MQTT connecting');
  }

  /** Says "offline" (retained), then disconnects gracefully. Events still queued stay in the queue file. */
  async stop(): Promise<void> {
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
    if (left && this.opts.queueFile) this.opts.log.info({ events: left, file: this.opts.queueFile }, 'queued events kept for the next start');
    else if (left) this.opts.log.warn({ events: left }, 'queued events discarded (no queue file)');
  }

  /** Queues one event's messages (not retained); they are sent in order and leave the queue when all are acked. */
  send(group: Group): void {
    this.queue.push(group);
    if (this.isConnected) void this.drain(this.gen);
  }

  /** Keeps the latest retained value and sends it now if connected (it is re-sent on every connect). */
  setRetained(topic: string, payload: string): void {
    this.retained.set(topic, payload);
    if (this.isConnected) this.client?.publish(topic, payload, { qos: this.qos, retain: true }, () => {});
  }

  hasRetained(topic: string): boolean {
    return this.retained.has(topic);
  }

  /** Sends retained messages at QoS 1 now, not kept for reconnects (their owner re-sends them); false when not connected. */
  publishRetainedOnce(msgs: readonly MqttMessage[]): boolean {
    const client = this.client;
    if (!client || !this.isConnected) return false;
    for (const m of msgs) client.publish(m.topic, m.payload, { qos: 1, retain: true }, () => {});
    return true;
  }

  // --- subscriptions and direct publishes (for services that keep their own records on the broker)

  /** Subscribes to `filter` at QoS 1 now (if connected) and on every reconnect; returns the way to unsubscribe. */
  subscribe(filter: string, handler: SubscriptionHandler): () => void {
    const sub = { filter, handler };
    this.subscriptions.add(sub);
    if (this.client && this.isConnected) this.subscribeOne(this.client, sub);
    return () => {
      if (!this.subscriptions.delete(sub)) return;
      const stillWanted = [...this.subscriptions].some((s) => s.filter === filter);
      if (!stillWanted && this.client && this.isConnected) this.client.unsubscribe(filter);
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

  private subscribeAll(client: MqttClient): void {
    for (const sub of this.subscriptions) this.subscribeOne(client, sub);
  }

  private subscribeOne(client: MqttClient, sub: { filter: string; handler: SubscriptionHandler }): void {
    client.subscribe(sub.filter, { qos: 1 }, (err) => {
      if (err) return this.logOnce(`MQTT subscribe to ${sub.filter} failed: ${err.message}`);
      if (this.subscriptions.has(sub)) sub.handler.onSubscribed?.();
    });
  }

  private dispatch(topic: string, payload: Buffer): void {
    for (const { filter, handler } of this.subscriptions) if (topicMatches(filter, topic)) handler.onMessage(topic, payload);
  }
  // --- end subscriptions and direct publishes

  private onDrop() {
    // Logged at the first drop and every 1000th after; all are counted (stats.dropped, /metrics).
    if (this.queue.dropped % 1000 === 1)
      this.opts.log.warn({ dropped: this.queue.dropped, limit: this.opts.config.queueLimit }, 'event queue full: oldest events dropped');
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
      this.opts.log.info('MQTT connected');
      this.opts.onConnection?.(true);
      for (const l of this.connectionListeners) l(true);
    }
    const opts = { qos: 1 as const, retain: true };
    client.publish(topics.available(this.prefix), 'online', opts, () => {});
    for (const m of this.opts.freshRetained?.() ?? []) this.retained.set(m.topic, m.payload);
    for (const [topic, payload] of this.retained) client.publish(topic, payload, { qos: this.qos, retain: true }, () => {});
    this.opts.onConnect?.();
    this.subscribeAll(client);
    void this.drain(this.gen);
  }

  private onClose() {
    this.disconnected?.();
    this.disconnected = null;
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

  private logOnce(msg: string) {
    if (this.loggedErrors.has(msg)) return;
    this.loggedErrors.add(msg);
    this.opts.log.warn(msg);
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

/** Whether an MQTT topic filter (`+` one level, `#` the rest) matches a topic. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
