/**
 * Facebank sync (the IO unit): publishes every local facebank change as a retained, sealed record under
 * `<mqtt.prefix>/facebank/<kind>/<id>` and applies the records of the other appliances (last writer wins by HLC,
 * tombstones for deletions). Local changes are first written to the pending set in <dataDir>/sync-state.json and
 * leave it on PUBACK, so changes made while the broker is away are published when it returns. On every (re)connect
 * the retained records are delivered again; versions already held are skipped, so nothing is applied twice.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import sharp from 'sharp';
import type { MqttConfig, SyncConfig } from '../config/schema.js';
import type { Facebank, FacebankChange, RemoteOp } from '../store/facebank.js';
import type { Sample } from '../store/types.js';
import { FacegateError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import { open, parseSyncKey, seal } from './envelope.js';
import { formatHlc, HlcClock, parseHlc } from './hlc.js';
import { decide, expired, recordKey } from './merge.js';
import { syncRecordSchema, type RecordKind, type SampleRecord, type SyncRecord } from './records.js';
import { readSyncState, writeSyncState, type SyncStateData } from './state.js';
import { parseSyncTopic, syncFilter, syncTopic } from './topics.js';

export interface SyncOptions {
  config: SyncConfig;
  mqtt: MqttConfig;
  url: string;
  dataDir: string;
  facebank: Facebank;
  /** The local embedder: samples made by another model are re-embedded from their crop. */
  embedderId: string;
  embedAligned: (crops: RgbImage[]) => Promise<Float32Array[]>;
  log?: Logger;
  reconnectPeriodMs?: number;
}

export interface SyncStats {
  enabled: boolean;
  connected: boolean;
  applianceId: string;
  encrypted: boolean;
  sent: number;
  applied: number;
  refused: number;
  pending: number;
  lastSync: string | null;
}

const DAY_MS = 86_400_000;

export class FacebankSync {
  private client: MqttClient | null = null;
  private state: SyncStateData = { records: {}, pending: [], lastSync: null };
  private key: Buffer | null = null;
  private clock: HlcClock;
  private work: Promise<unknown> = Promise.resolve();
  private parked = new Map<string, SyncRecord[]>();
  private inbox: SyncRecord[] = [];
  private draining = false;
  private inFlight = new Set<string>();
  private expiryTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private connected = false;
  private accepting = false;
  private counts = { sent: 0, applied: 0, refused: 0 };
  private readonly log: Logger;
  readonly applianceId: string;

  constructor(private readonly opts: SyncOptions) {
    this.applianceId = opts.config.applianceId ?? os.hostname().replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 64);
    this.clock = new HlcClock(this.applianceId);
    this.log = (opts.log ?? silentLogger()).child({ unit: 'sync' });
  }

  get stats(): SyncStats {
    return { enabled: true, connected: this.connected, applianceId: this.applianceId, encrypted: this.key !== null, ...this.counts, pending: this.state.pending.length, lastSync: this.state.lastSync };
  }

  /** The appliance a person was first enrolled on (this one for people from before sync). */
  origin(personId: string): string {
    return this.state.records[recordKey('person', personId)]?.origin ?? this.applianceId;
  }

  private get prefix(): string {
    return this.opts.mqtt.prefix;
  }

  async start(): Promise<void> {
    if (this.client) return;
    const c = this.opts.config;
    if (c.key) this.key = parseSyncKey(c.key);
    else if (!c.allowPlaintext) throw new FacegateError('sync-key', 'Facebank sync needs a site key: set FACEGATE_SYNC_KEY (32 bytes, e.g. `openssl rand -base64 32`), or sync.allowPlaintext: true to send faces in clear.');
    else this.log.warn('facebank sync without a site key: faces and embeddings are readable by anyone on the broker');
    // Local changes reported from here on queue behind the state read and the reconcile.
    this.accepting = true;
    const ready = this.work.then(async () => {
      this.state = await readSyncState(this.opts.dataDir);
      for (const e of Object.values(this.state.records)) {
        const h = parseHlc(e.version);
        if (h) this.clock.observe(h);
      }
      await this.reconcile();
    });
    this.work = ready.catch(() => {});
    try {
      await ready;
    } catch (e) {
      this.accepting = false;
      throw e;
    }
    const m = this.opts.mqtt;
    const options: IClientOptions = {
      clientId: `${m.clientId ?? `facegate-${os.hostname()}`}-sync`,
      username: m.username,
      password: m.password, // FACEGATE_MQTT_PASSWORD is already in it (src/config/load.ts)
      reconnectPeriod: this.opts.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      reconnectOnConnackError: true,
      ...(m.tls ? { ca: m.tls.ca ? await readFile(m.tls.ca) : undefined, cert: m.tls.cert ? await readFile(m.tls.cert) : undefined, key: m.tls.key ? await readFile(m.tls.key) : undefined, rejectUnauthorized: m.tls.rejectUnauthorized } : {}),
    };
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;
    client.on('connect', () => {
      this.connected = true;
      this.log.info({ appliance: this.applianceId, pending: this.state.pending.length }, 'sync connected');
      client.subscribe(syncFilter(this.prefix), { qos: 1 }, (err) => {
        if (err) this.log.warn({ err: err.message }, 'sync subscribe failed');
      });
      this.flush();
    });
    client.on('close', () => {
      this.connected = false;
      this.inFlight.clear();
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'sync MQTT error'));
    client.on('message', (topic, payload) => this.receive(topic, payload));
    this.expiryTimer = setInterval(() => this.enqueue(() => this.expire()), 60_000);
    this.expiryTimer.unref();
  }

  async stop(): Promise<void> {
    this.accepting = false;
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
    const client = this.client;
    this.client = null;
    await this.work.catch(() => {});
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await writeSyncState(this.opts.dataDir, this.state);
    if (client) await Promise.race([client.endAsync(), new Promise((r) => setTimeout(r, 3000).unref())]).catch(() => client.end(true));
    this.connected = false;
  }

  /** Facebank hook: a committed change. Local ones get a new version and are published; remote ones are skipped. */
  onChange(change: FacebankChange): void {
    if (change.remote || !this.accepting) return;
    this.enqueue(async () => {
      const touched: [RecordKind, string, boolean][] = [];
      if (change.op === 'person.create' || change.op === 'person.rename') touched.push(['person', change.person.id, false]);
      else if (change.op === 'person.delete') touched.push(['person', change.personId, true], ...change.sampleIds.map((id): [RecordKind, string, boolean] => ['sample', id, true]));
      else if (change.op === 'sample.add') touched.push(['sample', change.sample.id, false]);
      else if (change.op === 'sample.delete') touched.push(['sample', change.sampleId, true]);
      if (!touched.length) return;
      for (const [kind, id, deleted] of touched) this.bump(kind, id, deleted);
      await writeSyncState(this.opts.dataDir, this.state);
      this.flush();
    });
  }

  private enqueue(fn: () => Promise<void>): void {
    const p = this.work.then(fn).catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'sync step failed'));
    this.work = p;
  }

  /** A local version for (kind, id), marked pending. */
  private bump(kind: RecordKind, id: string, deleted: boolean): void {
    const key = recordKey(kind, id);
    const old = this.state.records[key];
    this.state.records[key] = {
      version: formatHlc(this.clock.now()),
      origin: old?.origin ?? this.applianceId,
      deleted,
      ...(deleted ? { expires: Date.now() + this.opts.config.tombstoneDays * DAY_MS } : {}),
    };
    if (!this.state.pending.includes(key)) this.state.pending.push(key);
  }

  /** Records changed while sync was off: unversioned ones get a version, versioned ones gone get a tombstone. */
  private async reconcile(): Promise<void> {
    const fb = this.opts.facebank;
    const live = new Set<string>();
    for (const p of await fb.people()) live.add(recordKey('person', p.id));
    for (const s of await fb.samples()) live.add(recordKey('sample', s.id));
    let n = 0;
    for (const key of live) {
      if (this.state.records[key] && !this.state.records[key]!.deleted) continue;
      const [kind, id] = key.split('/') as [RecordKind, string];
      this.bump(kind, id, false);
      n++;
    }
    for (const [key, e] of Object.entries(this.state.records)) {
      if (e.deleted || live.has(key)) continue;
      const [kind, id] = key.split('/') as [RecordKind, string];
      this.bump(kind, id, true);
      n++;
    }
    if (n) this.log.info({ records: n }, 'facebank changes made while sync was off: queued for publishing');
    await writeSyncState(this.opts.dataDir, this.state);
  }

  /** Publish every pending record not already in flight. */
  private flush(): void {
    const client = this.client;
    if (!client || !this.connected) return;
    for (const key of this.state.pending) {
      if (this.inFlight.has(key)) continue;
      this.inFlight.add(key);
      void this.publishOne(client, key).finally(() => this.inFlight.delete(key));
    }
  }

  private async publishOne(client: MqttClient, key: string): Promise<void> {
    const entry = this.state.records[key];
    const [kind, id] = key.split('/') as [RecordKind, string];
    const record = entry ? await this.build(kind, id, entry) : null;
    const topic = syncTopic(this.prefix, kind, id);
    if (!entry || !record) {
      this.state.pending = this.state.pending.filter((k) => k !== key);
      return;
    }
    try {
      await client.publishAsync(topic, seal(this.key, topic, Buffer.from(JSON.stringify(record))), { qos: 1, retain: true });
    } catch (e) {
      this.log.debug({ key, err: (e as Error).message }, 'sync publish not acknowledged; retried on reconnect');
      return;
    }
    this.counts.sent++;
    if (this.state.records[key]?.version === record.version) this.state.pending = this.state.pending.filter((k) => k !== key);
    this.state.lastSync = new Date().toISOString();
    this.scheduleSave();
  }

  private async build(kind: RecordKind, id: string, e: SyncStateData['records'][string]): Promise<SyncRecord | null> {
    const base = { id, version: e.version, origin: e.origin };
    if (e.deleted) return { kind, ...base, deleted: true, expires: e.expires ?? Date.now() + this.opts.config.tombstoneDays * DAY_MS };
    const fb = this.opts.facebank;
    if (kind === 'person') {
      const p = await fb.person(id);
      return p ? { kind, ...base, deleted: false, name: p.name, created: p.created } : null;
    }
    const s = (await fb.samples()).find((x) => x.id === id);
    if (!s) return null;
    const crop = await readFile(fb.cropPath(id));
    return { kind, ...base, deleted: false, personId: s.personId, modelId: s.modelId, embedding: s.embedding, crop: crop.toString('base64'), negative: s.negative, source: s.source, quality: { ...s.quality }, created: s.created };
  }

  private refuse(topic: string, why: string): void {
    this.counts.refused++;
    this.log.warn({ topic, why }, 'sync record refused');
  }

  private receive(topic: string, payload: Buffer): void {
    const where = parseSyncTopic(this.prefix, topic);
    if (!where || payload.length === 0) return;
    const plain = open(this.key, topic, payload);
    if (!plain) return this.refuse(topic, this.key ? 'not sealed with this site key (tampered, another key, or clear text)' : 'sealed, but this appliance has no site key');
    let json: unknown;
    try {
      json = JSON.parse(plain.toString('utf8'));
    } catch {
      return this.refuse(topic, 'not JSON');
    }
    const r = syncRecordSchema.safeParse(json);
    if (!r.success || r.data.kind !== where.kind || r.data.id !== where.id) return this.refuse(topic, 'not a valid record for this topic');
    if (!parseHlc(r.data.version)) return this.refuse(topic, 'bad version');
    this.receiveRecord(r.data);
  }

  /**
   * Apply the records received so far, in one facebank save: the ones newer than what is held, in arrival order.
   * Samples whose person has not arrived yet (retained messages come in any order) wait for it.
   */
  private async drain(): Promise<void> {
    this.draining = false;
    const batch = this.inbox.splice(0);
    if (!batch.length) return;
    const staged = new Map<string, SyncRecord>();
    const ops: RemoteOp[] = [];
    const fb = this.opts.facebank;
    for (const rec of batch) {
      const key = recordKey(rec.kind, rec.id);
      if (decide(staged.get(key) ?? this.state.records[key], rec) !== 'apply') continue;
      if (rec.deleted) ops.push(rec.kind === 'person' ? { op: 'person.delete', id: rec.id } : { op: 'sample.delete', id: rec.id });
      else if (rec.kind === 'person') ops.push({ op: 'person', person: { id: rec.id, name: rec.name, created: rec.created, notes: '' } });
      else {
        const personHere = staged.get(recordKey('person', rec.personId)) ?? (await fb.person(rec.personId));
        if (!personHere || ('deleted' in personHere && personHere.deleted)) {
          this.parked.set(rec.personId, [...(this.parked.get(rec.personId) ?? []), rec]);
          continue;
        }
        ops.push({ op: 'sample', sample: await this.localSample(rec), jpeg: Buffer.from(rec.crop, 'base64') });
      }
      staged.set(key, rec);
    }
    if (!staged.size) return;
    const { orphans } = await fb.applyRemote(ops);
    const unplaced = new Set(orphans);
    const now = Date.now();
    for (const [key, rec] of staged) {
      if (unplaced.has(rec.id) && rec.kind === 'sample' && !rec.deleted) {
        this.parked.set(rec.personId, [...(this.parked.get(rec.personId) ?? []), rec]);
        continue;
      }
      const h = parseHlc(rec.version);
      if (h) this.clock.observe(h);
      this.state.records[key] = { version: rec.version, origin: rec.origin, deleted: rec.deleted, ...(rec.deleted ? { expires: rec.expires } : {}) };
      this.state.pending = this.state.pending.filter((k) => k !== key);
      this.counts.applied++;
      if (rec.deleted && expired(rec, now)) await this.clear(rec.kind, rec.id);
      if (rec.kind === 'person' && !rec.deleted && this.parked.has(rec.id)) {
        this.receiveRecord(...this.parked.get(rec.id)!);
        this.parked.delete(rec.id);
      }
    }
    this.state.lastSync = new Date().toISOString();
    this.scheduleSave();
  }

  /** Queue valid records for the next drain. */
  private receiveRecord(...recs: SyncRecord[]): void {
    this.inbox.push(...recs);
    if (this.draining) return;
    this.draining = true;
    this.enqueue(() => this.drain());
  }

  /** The sample as stored here: re-embedded from its crop when made by another embedder. */
  private async localSample(rec: SampleRecord): Promise<Sample> {
    const s: Sample = { id: rec.id, personId: rec.personId, embedding: rec.embedding, modelId: rec.modelId, quality: rec.quality, source: rec.source, created: rec.created, negative: rec.negative };
    if (rec.modelId === this.opts.embedderId) return s;
    const { data, info } = await sharp(Buffer.from(rec.crop, 'base64')).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const [e] = await this.opts.embedAligned([{ width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }]);
    if (!e) throw new FacegateError('sync-embed', `The embedder returned nothing for sample ${rec.id}.`);
    return { ...s, embedding: Array.from(e), modelId: this.opts.embedderId };
  }

  /** Clear the retained tombstones past their expiry and forget them. */
  private async expire(): Promise<void> {
    const now = Date.now();
    for (const [key, e] of Object.entries(this.state.records)) {
      if (!e.deleted || (e.expires ?? Infinity) > now) continue;
      const [kind, id] = key.split('/') as [RecordKind, string];
      await this.clear(kind, id);
    }
  }

  private async clear(kind: RecordKind, id: string): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return;
    await client.publishAsync(syncTopic(this.prefix, kind, id), Buffer.alloc(0), { qos: 1, retain: true });
    delete this.state.records[recordKey(kind, id)];
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.enqueue(() => writeSyncState(this.opts.dataDir, this.state));
    }, 200);
    this.saveTimer.unref();
  }
}
