/**
 * Facebank sync (the IO unit): publishes every local facebank change as a retained, sealed record under
 * `<prefix>/facebank/<kind>/<id>` and applies the records of the other appliances (last writer wins by HLC,
 * tombstones for deletions) through the facebank's owner (ports.ts: SyncFacebank), over the appliance's one MQTT
 * connection (ports.ts: SyncLink). Local changes are first noted as pending in <dataDir>/sync-state.jsonl and leave
 * it on PUBACK, so changes made while the broker is away are published when it returns. On every (re)connect the
 * retained records are delivered again; versions already held are skipped, so nothing is applied twice. After each
 * catch-up (a probe published behind the retained records comes back) it checks that its key opens the site's
 * records (a key that opens none of them publishes nothing: it cannot replace what it could not read), compares the
 * facebank with the state and publishes what differs (changes made while sync was off or lost to a crash before
 * the state write), and republishes the records the broker lacks or holds unreadable (a broker that lost its state,
 * a new one, a tampered record). See README.md beside this file.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import sharp from 'sharp';
import type { SyncConfig } from '../config/schema.js';
import type { Bus } from '../events/bus.js';
import { nameKey } from '../store/names.js';
import { StorageHealth, type StorageReporter } from '../store/storage-health.js';
import type { FacebankChange, RecordOp, Sample } from '../store/types.js';
import { FacegateError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import { open, parseSyncKey, seal } from './envelope.js';
import { formatHlc, HlcClock, parseHlc } from './hlc.js';
import { decide, expired, recordKey } from './merge.js';
import { nameClashes, nameSum, suffixedName } from './names.js';
import type { SyncFacebank, SyncLink, SyncSample } from './ports.js';
import { syncRecordSchema, type RecordKind, type SampleRecord, type SyncRecord } from './records.js';
import { SyncState, type SyncEntry } from './state.js';
import { parseSyncTopic, probeTopic, syncFilter, syncTopic } from './topics.js';

export interface SyncOptions {
  config: SyncConfig;
  /** The appliance's MQTT connection (its transport): records go under `<prefix>/facebank/`. */
  link: SyncLink;
  prefix: string;
  dataDir: string;
  /** The facebank's owner: the sync reads through it and applies other appliances' records through it. */
  facebank: SyncFacebank;
  /** The sync follows the facebank's committed changes here ('facebankChanged'). */
  bus: Bus;
  /** The local embedder: samples made by another model are re-embedded from their crop. */
  embedderId: string;
  embedAligned: (crops: RgbImage[]) => Promise<Float32Array[]>;
  log?: Logger;
  /** Where a state write the disk refuses is reported (the appliance's storage health); default: one of its own. */
  storage?: StorageReporter;
  /** Records of other origins missing on the broker are republished after a random wait up to this (default 10 s), if still missing. */
  republishJitterMs?: number;
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
  /** Records on the broker this appliance's key cannot open (another key, or damaged), seen since the last connect. */
  unreadable: number;
  /** This appliance's key opens none of the site's records: it publishes nothing until restarted with the site's key. */
  keyMismatch: boolean;
}

/** Records being published at once, at most (each holds a crop read and a sealed record until the broker acknowledges it). */
export const MAX_IN_FLIGHT = 256;

/** How often one record is repaired (replaced by the version held here) per connection, at most: two boxes that each repair it stop. */
const MAX_REPAIRS = 3;

const DAY_MS = 86_400_000;

export class FacebankSync {
  private started = false;
  private detach: (() => void)[] = [];
  /** Set by start(). */
  private state!: SyncState;
  private key: Buffer | null = null;
  private clock: HlcClock;
  private work: Promise<unknown> = Promise.resolve();
  private parked = new Map<string, SyncRecord[]>();
  private inbox: SyncRecord[] = [];
  private draining = false;
  private drainTimer: NodeJS.Timeout | null = null;
  private inFlight = new Set<string>();
  /** The pending keys of the current publishing round (flush), the next to try, and the round's sample index. */
  private round: { keys: string[]; next: number; sample: (id: string) => Promise<SyncSample | undefined> } | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private saveTimer: NodeJS.Timeout | null = null;
  private connected = false;
  private accepting = false;
  private counts = { sent: 0, applied: 0, refused: 0 };
  /** Version of every record seen on the broker since the last connect (retained or live). */
  private brokerView = new Map<string, string>();
  /** The nonce of the catch-up probe in flight, and what to do when it returns. */
  private probe: string | null = null;
  /** From a connect until its probe returns: the retained records are arriving. */
  private catchingUp = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private republishTimer: NodeJS.Timeout | null = null;
  /** Connections made to the broker (more than one: it went away, or the link dropped). */
  connects = 0;
  /** Times this box found records missing on the broker and republished them (also in the log). */
  republished = 0;
  /** Catch-ups completed (the probe came back behind the retained records). */
  catchUps = 0;
  /** Whether this appliance's key opens the site's records: unknown until the first catch-up, which publishing waits for. */
  private keyState: 'unknown' | 'ok' | 'mismatch' = 'unknown';
  /** Records opened and refused as unreadable since the connect, and the keys of those still unreadable on the broker. */
  private session = { readable: 0, unreadable: 0 };
  private unreadableOnBroker = new Set<string>();
  private repairs = new Map<string, number>();
  private unreadableLive = 0;
  private unreadableLogTimer: NodeJS.Timeout | null = null;
  /** Records repaired (an unreadable copy on the broker replaced by the version held here). */
  repaired = 0;
  private readonly log: Logger;
  readonly applianceId: string;

  constructor(private readonly opts: SyncOptions) {
    this.applianceId =
      opts.config.applianceId ??
      os
        .hostname()
        .replace(/[^a-zA-Z0-9_.-]/g, '-')
        .slice(0, 64);
    this.clock = new HlcClock(this.applianceId);
    this.log = (opts.log ?? silentLogger()).child({ unit: 'sync' });
  }

  get stats(): SyncStats {
    return {
      enabled: true,
      connected: this.connected,
      applianceId: this.applianceId,
      encrypted: this.key !== null,
      ...this.counts,
      pending: this.state?.pending.size ?? 0,
      lastSync: this.state?.lastSync ?? null,
      unreadable: this.unreadableOnBroker.size,
      keyMismatch: this.keyState === 'mismatch',
    };
  }

  /** The appliance a person was first enrolled on (this one for people from before sync). */
  origin(personId: string): string {
    return this.state?.entry(recordKey('person', personId))?.origin ?? this.applianceId;
  }

  private get prefix(): string {
    return this.opts.prefix;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const c = this.opts.config;
    if (c.key) this.key = parseSyncKey(c.key);
    else if (!c.allowPlaintext)
      throw new FacegateError(
        'sync_key',
        'Facebank sync needs a site key: set FACEGATE_SYNC_KEY (32 bytes, e.g. `openssl rand -base64 32`), or sync.allowPlaintext: true to send faces in clear.',
      );
    else this.log.warn('facebank sync without a site key: faces and embeddings are readable by anyone on the broker');
    // Local changes reported from here on queue behind the state read and the reconcile.
    this.accepting = true;
    this.detach.push(this.opts.bus.on('facebankChanged', (change) => this.onChange(change)));
    const ready = this.work.then(async () => {
      // A write the disk refuses is logged once and retried when space returns (store/storage-health.ts).
      const { state, setAside } = await SyncState.open(this.opts.dataDir, this.opts.storage ?? new StorageHealth({ log: this.log }));
      if (setAside)
        this.log.error(
          { file: setAside.file },
          `the sync state file is damaged (${setAside.reason}): kept aside as ${setAside.file}; the sync rebuilds what it lacks from the broker and the facebank`,
        );
      this.state = state;
      // A mismatch noted by the last run is checked again at this start's catch-up.
      this.state.setKeyMismatch(null);
      for (const e of this.state.records.values()) {
        const h = parseHlc(e.version);
        if (h) this.clock.observe(h);
      }
    });
    this.work = ready.catch(() => {});
    try {
      await ready;
    } catch (e) {
      this.accepting = false;
      this.detachAll();
      throw e;
    }
    this.started = true;
    const link = this.opts.link;
    // The retained records may arrive before the subscription's acknowledgement is handled: the session begins first.
    this.beginSession();
    this.detach.push(
      link.onConnectionChange((up) => (up ? this.beginSession() : this.onLinkLost())),
      link.subscribe(syncFilter(this.prefix), { onMessage: (topic, payload) => this.receive(topic, payload), onSubscribed: () => this.onSubscribed() }),
    );
    this.expiryTimer = setInterval(() => this.enqueue(() => this.expire()), 60_000);
    this.expiryTimer.unref();
  }

  /** A connection (before subscribing): what the broker shows is learnt afresh, and records are gathered until the probe returns. */
  private beginSession(): void {
    this.catchingUp = true;
    this.brokerView.clear();
    this.unreadableOnBroker.clear();
    this.repairs.clear();
    this.session = { readable: 0, unreadable: 0 };
  }

  /** Subscribed (on every connect): the retained records come first, then the probe that says they all arrived. */
  private onSubscribed(): void {
    this.connected = true;
    this.connects++;
    this.log.info({ appliance: this.applianceId, pending: this.state.pending.size }, 'sync connected');
    this.sendProbe(randomUUID());
    this.flush();
  }

  private onLinkLost(): void {
    this.connected = false;
    this.inFlight.clear();
    this.round = null;
    this.probe = null;
    this.clearTimers();
  }

  private detachAll(): void {
    for (const d of this.detach.splice(0)) d();
  }

  async stop(): Promise<void> {
    this.accepting = false;
    this.detachAll();
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
    this.clearTimers();
    const wasStarted = this.started;
    this.started = false;
    await this.work.catch(() => {});
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    if (wasStarted) await this.state.flush();
    this.connected = false;
  }

  /** A committed facebank change (from the bus). Local ones get a new version and are published; remote ones are skipped. */
  onChange(change: FacebankChange): void {
    if (change.remote || !this.accepting) return;
    this.enqueue(async () => {
      const touched: [RecordKind, string, boolean, string?][] = [];
      if (change.op === 'person.create' || change.op === 'person.rename') touched.push(['person', change.person.id, false, nameSum(change.person.name)]);
      else if (change.op === 'person.delete')
        touched.push(['person', change.personId, true], ...change.sampleIds.map((id): [RecordKind, string, boolean] => ['sample', id, true]));
      else if (change.op === 'sample.add') touched.push(['sample', change.sample.id, false]);
      else if (change.op === 'sample.delete') touched.push(['sample', change.sampleId, true]);
      if (!touched.length) return;
      for (const [kind, id, deleted, sum] of touched) this.bump(kind, id, deleted, sum);
      // Test hook: die where a crash would lose the change if start-up did not compare the facebank with the state.
      if (this.opts.config.crashBeforeStateWrite) process.kill(process.pid, 'SIGKILL');
      // Saved with the next batch (a crash before it is found by reconcile() at the next start).
      this.scheduleSave();
      this.flush();
    });
  }

  private enqueue(fn: () => Promise<void>): void {
    const p = this.work.then(fn).catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'sync step failed'));
    this.work = p;
  }

  /** A local version for (kind, id), marked pending. */
  private bump(kind: RecordKind, id: string, deleted: boolean, sum?: string): void {
    const key = recordKey(kind, id);
    const old = this.state.entry(key);
    this.state.set(
      key,
      {
        version: formatHlc(this.clock.now()),
        origin: old?.origin ?? this.applianceId,
        deleted,
        ...(deleted ? { expires: Date.now() + this.opts.config.tombstoneDays * DAY_MS } : {}),
        ...(sum ? { sum } : {}),
      },
      true,
    );
  }

  /**
   * The facebank against the state (after a catch-up, so that records this box had applied but not yet noted are
   * redelivered and noted first): records new or renamed since the state was written get a version, records gone
   * get a tombstone. This finds changes made while sync was off and changes a crash kept out of the state.
   */
  private async reconcile(): Promise<void> {
    const fb = this.opts.facebank;
    const live = new Map<string, string | undefined>();
    for (const p of await fb.people()) live.set(recordKey('person', p.id), nameSum(p.name));
    for (const s of await fb.samples()) live.set(recordKey('sample', s.id), undefined);
    let n = 0;
    for (const [key, sum] of live) {
      let e = this.state.entry(key);
      if (e && !e.deleted && e.sum === undefined && sum !== undefined) this.state.set(key, (e = { ...e, sum })); // a state from before sums were kept
      if (e && !e.deleted && e.sum === sum) continue;
      const [kind, id] = key.split('/') as [RecordKind, string];
      this.bump(kind, id, false, sum);
      n++;
    }
    for (const [key, e] of [...this.state.records]) {
      if (e.deleted || live.has(key)) continue;
      const [kind, id] = key.split('/') as [RecordKind, string];
      this.bump(kind, id, true);
      n++;
    }
    if (n) this.log.info({ records: n }, 'facebank changes not yet published (made while sync was off, or before a crash): queued for publishing');
  }

  /** Publish the probe (a sealed nonce, QoS 1, not retained) that comes back behind the retained records; again every 15 s until it does. */
  private sendProbe(nonce: string): void {
    this.probe = nonce;
    const topic = probeTopic(this.prefix, this.applianceId);
    this.opts.link.publishNow(topic, seal(this.key, topic, Buffer.from(nonce)), { retain: false }).catch(() => {});
    if (this.probeTimer) clearTimeout(this.probeTimer);
    const connect = this.connects;
    this.probeTimer = setTimeout(() => this.started && this.connected && this.connects === connect && this.probe === nonce && this.sendProbe(nonce), 15_000);
    this.probeTimer.unref();
  }

  private clearTimers(): void {
    for (const t of [this.probeTimer, this.republishTimer, this.unreadableLogTimer]) if (t) clearTimeout(t);
    this.probeTimer = this.republishTimer = this.unreadableLogTimer = null;
    this.unreadableLive = 0;
    this.drainNow();
  }

  /**
   * The retained records have all arrived (and been applied before this runs): publish what the facebank has that
   * the state does not, settle name clashes, and republish what the broker lacks: this box's own records at once,
   * the others' after a random wait if nobody has republished them meanwhile (so 20 boxes do not all send them).
   */
  private async caughtUp(): Promise<void> {
    this.checkKey();
    await this.reconcile();
    if (this.keyState === 'mismatch') {
      await this.state.flush();
      this.catchUps++;
      return;
    }
    await this.settleNameClashes();
    const connect = this.connects;
    const own = this.missingOnBroker((e) => e.origin === this.applianceId);
    if (own) this.log.warn({ records: own }, 'the broker lacks records of this appliance (it lost its retained state, or is new): republishing them');
    await this.state.flush();
    this.flush();
    this.catchUps++;
    const wait = Math.random() * (this.opts.republishJitterMs ?? 10_000);
    this.republishTimer = setTimeout(
      () =>
        this.enqueue(async () => {
          if (this.connects !== connect || !this.connected) return;
          const others = this.missingOnBroker(() => true);
          if (!others) return;
          this.log.warn({ records: others }, 'the broker lacks records of other appliances (it lost its retained state, or is new): republishing them');
          await this.state.flush();
          this.flush();
        }),
      wait,
    );
    this.republishTimer.unref();
  }

  /**
   * After a catch-up: does this appliance's key open the site's records? A key that opens none of them (while some
   * are there) is not the site's: this box then publishes nothing, so it cannot replace records it could not read.
   */
  private checkKey(): void {
    const { readable, unreadable } = this.session;
    const held = [...this.unreadableOnBroker].filter((k) => this.state.records.has(k)).length;
    if (unreadable)
      this.log.warn(
        { unreadable, held, readable },
        `${unreadable} sync record(s) on the broker could not be opened with this appliance's key (sealed with another key, or damaged)${held && readable ? `; the ${held} held here are replaced by this appliance's versions` : ''}`,
      );
    if (readable > 0 || unreadable === 0 || this.opts.config.adoptSite) {
      if (unreadable && !readable)
        this.log.warn({ unreadable }, 'sync.adoptSite: this appliance replaces the records it holds with copies sealed with its key');
      if (this.keyState === 'mismatch') this.log.info("this appliance's key opens the site's records now: publishing again");
      this.keyState = 'ok';
      this.state.setKeyMismatch(null);
      return;
    }
    if (this.keyState !== 'mismatch')
      this.log.error(
        { unreadable },
        `this appliance's site key opens none of the ${unreadable} facebank records on the broker: FACEGATE_SYNC_KEY differs from the other appliances'; it publishes nothing until restarted with the site's key (or with sync.adoptSite: true to make its key the site's)`,
      );
    this.keyState = 'mismatch';
    this.state.setKeyMismatch({ unreadable, since: this.state.keyMismatch?.since ?? new Date().toISOString() });
  }

  /** Mark pending the records held here (live or unexpired tombstones) that the broker has not shown since the connect, or showed older. */
  private missingOnBroker(which: (e: SyncEntry) => boolean): number {
    const now = Date.now();
    let n = 0;
    for (const [key, e] of this.state.records) {
      if (!which(e) || (e.deleted && (e.expires ?? Infinity) <= now) || this.state.pending.has(key)) continue;
      const seen = this.brokerView.get(key);
      if (seen !== undefined && decide({ version: seen }, e) !== 'apply') continue;
      this.state.setPending(key, true);
      n++;
    }
    if (n) this.republished++;
    return n;
  }

  /**
   * Rename the people this box gave a name someone else took first (see names.ts). `names`: only clashes over these
   * names (those just applied: a clash needs one of them), so a received record costs what it changed, not the people.
   */
  private async settleNameClashes(names?: ReadonlySet<string>): Promise<void> {
    const fb = this.opts.facebank;
    const people = (await fb.people())
      .filter((p) => !names || names.has(nameKey(p.name)))
      .map((p) => ({ id: p.id, name: p.name, version: this.state.entry(recordKey('person', p.id))?.version }));
    for (const p of nameClashes(people)) {
      if (!p.version || parseHlc(p.version)?.node !== this.applianceId) continue;
      for (let n = 1; n < 100; n++) {
        const name = suffixedName(p.name, this.applianceId, n);
        if (await fb.findByName(name)) continue;
        try {
          await fb.renamePerson(p.id, name);
          this.log.warn({ person: p.id, from: p.name, to: name }, 'another appliance gave a different person this name first: renamed the one enrolled here');
        } catch (e) {
          this.log.warn({ person: p.id, err: (e as Error).message }, 'could not rename a person whose name another appliance took first');
        }
        break;
      }
    }
  }

  /** Publish every pending record not already in flight: a new round over what is pending now. */
  private flush(): void {
    if (!this.mayPublish) return;
    // One index of the samples per round (a catch-up may publish thousands).
    let index: Promise<Map<string, SyncSample>> | null = null;
    const sample = async (id: string) => (await (index ??= this.opts.facebank.samples().then((all) => new Map(all.map((x) => [x.id, x]))))).get(id);
    this.round = { keys: [...this.state.pending], next: 0, sample };
    this.pump();
  }

  /**
   * Start the round's next publishes, up to MAX_IN_FLIGHT at once (each holds a crop read and a sealed record:
   * 60,000 at once ran out of file descriptors and left thousands pending). Each key is tried once per round; one
   * changed again while it was in flight is tried again in the same round.
   */
  private pump(): void {
    const round = this.round;
    while (round && this.mayPublish && this.inFlight.size < MAX_IN_FLIGHT && round.next < round.keys.length) {
      const key = round.keys[round.next++]!;
      if (this.inFlight.has(key) || !this.state.pending.has(key)) continue;
      this.inFlight.add(key);
      void this.publishOne(key, round.sample)
        .catch(() => false)
        .then((again) => {
          this.inFlight.delete(key);
          if (again && this.round) this.round.keys.push(key);
          this.pump();
        });
    }
  }

  /** Records go out only while connected and once a catch-up showed that this appliance's key is the site's. */
  private get mayPublish(): boolean {
    return this.started && this.connected && this.keyState === 'ok';
  }

  /** Publishes one pending record; true when it was changed again meanwhile (still pending, with a newer version). */
  private async publishOne(key: string, sample: (id: string) => Promise<SyncSample | undefined>): Promise<boolean> {
    const entry = this.state.entry(key);
    const [kind, id] = key.split('/') as [RecordKind, string];
    let record: SyncRecord | null;
    try {
      record = entry ? await this.build(kind, id, entry, sample) : null;
    } catch (e) {
      // e.g. the crop of a sample deleted meanwhile: the delete bumps the record and flushes again.
      this.log.debug({ key, err: (e as Error).message }, 'sync record not built; left pending');
      return false;
    }
    const topic = syncTopic(this.prefix, kind, id);
    if (!entry || !record) {
      this.state.setPending(key, false);
      return false;
    }
    if (!this.mayPublish) return false;
    try {
      await this.opts.link.publishNow(topic, seal(this.key, topic, Buffer.from(JSON.stringify(record))), { retain: true });
    } catch (e) {
      this.log.debug({ key, err: (e as Error).message }, 'sync publish not acknowledged; retried on reconnect');
      return false;
    }
    this.counts.sent++;
    this.state.setLastSync(new Date().toISOString());
    this.scheduleSave();
    if (this.state.entry(key)?.version !== record.version) return this.state.pending.has(key);
    this.state.setPending(key, false);
    return false;
  }

  private async build(kind: RecordKind, id: string, e: SyncEntry, sample: (id: string) => Promise<SyncSample | undefined>): Promise<SyncRecord | null> {
    const base = { id, version: e.version, origin: e.origin };
    if (e.deleted) return { kind, ...base, deleted: true, expires: e.expires ?? Date.now() + this.opts.config.tombstoneDays * DAY_MS };
    const fb = this.opts.facebank;
    if (kind === 'person') {
      const p = await fb.person(id);
      return p ? { kind, ...base, deleted: false, name: p.name, created: p.created } : null;
    }
    const s = await sample(id);
    if (!s) return null;
    const crop = await readFile(fb.cropPath(id));
    return {
      kind,
      ...base,
      deleted: false,
      personId: s.personId,
      modelId: s.modelId,
      embedding: Array.from(s.embedding),
      crop: crop.toString('base64'),
      negative: s.negative,
      source: s.source,
      quality: { ...s.quality },
      created: s.created,
    };
  }

  private refuse(topic: string, why: string): void {
    this.counts.refused++;
    this.log.warn({ topic, why }, 'sync record refused');
  }

  private receive(topic: string, payload: Buffer): void {
    if (topic === probeTopic(this.prefix, this.applianceId)) {
      if (this.probe !== null && open(this.key, topic, payload)?.toString() === this.probe) {
        this.probe = null;
        this.catchingUp = false;
        if (this.probeTimer) clearTimeout(this.probeTimer);
        this.drainNow();
        this.log.info({ readable: this.session.readable, unreadable: this.session.unreadable }, 'sync caught up with the records on the broker');
        this.enqueue(() => this.caughtUp());
      }
      return;
    }
    const where = parseSyncTopic(this.prefix, topic);
    if (!where) return;
    const key = recordKey(where.kind, where.id);
    if (payload.length === 0) {
      this.unreadableOnBroker.delete(key);
      return void this.brokerView.delete(key);
    }
    const plain = open(this.key, topic, payload);
    if (!plain) return this.unreadable(key);
    this.session.readable++;
    this.unreadableOnBroker.delete(key);
    if (this.keyState === 'mismatch' && !this.catchingUp) {
      // Another appliance published with this key since (e.g. the site's key was changed): this one is the site's again.
      this.keyState = 'unknown';
      this.log.info("a record sealed with this appliance's key arrived: its key is the site's again; publishing");
      this.enqueue(() => this.caughtUp());
    }
    let json: unknown;
    try {
      json = JSON.parse(plain.toString('utf8'));
    } catch {
      return this.refuse(topic, 'not JSON');
    }
    const r = syncRecordSchema.safeParse(json);
    if (!r.success || r.data.kind !== where.kind || r.data.id !== where.id) return this.refuse(topic, 'not a valid record for this topic');
    if (!parseHlc(r.data.version)) return this.refuse(topic, 'bad version');
    const seen = this.brokerView.get(key);
    if (seen === undefined || decide({ version: seen }, r.data) === 'apply') this.brokerView.set(key, r.data.version);
    this.receiveRecord(r.data);
  }

  /**
   * A record this appliance's key cannot open (sealed with another key, tampered, or clear text): counted, never
   * applied, logged as one summary per catch-up (or per few seconds after it). Once the key is known to be the
   * site's, a record held here is replaced by the version held here: at once by the appliance that created it,
   * after a random wait by the others if the broker still shows it unreadable.
   */
  private unreadable(key: string): void {
    this.counts.refused++;
    this.session.unreadable++;
    this.unreadableOnBroker.add(key);
    if (this.catchingUp) return; // checkKey() summarises and caughtUp() repairs
    this.unreadableLive++;
    this.unreadableLogTimer ??= setTimeout(() => {
      this.unreadableLogTimer = null;
      this.log.warn(
        { unreadable: this.unreadableLive },
        `${this.unreadableLive} sync record(s) arrived that this appliance's key cannot open (another key, or damaged)`,
      );
      this.unreadableLive = 0;
    }, 5000);
    this.unreadableLogTimer.unref();
    const entry = this.state.entry(key);
    if (this.keyState !== 'ok' || !entry || (entry.deleted && (entry.expires ?? Infinity) <= Date.now())) return;
    const n = this.repairs.get(key) ?? 0;
    if (n >= MAX_REPAIRS) return;
    this.repairs.set(key, n + 1);
    const connect = this.connects;
    const repair = () =>
      this.enqueue(async () => {
        if (this.connects !== connect || !this.unreadableOnBroker.has(key) || !this.state.records.has(key)) return;
        this.state.setPending(key, true);
        this.repaired++;
        this.log.warn({ record: key }, 'a sync record held here was unreadable on the broker (tampered or damaged): replaced by the version held here');
        this.flush();
      });
    if (entry.origin === this.applianceId) return repair();
    setTimeout(repair, Math.random() * (this.opts.republishJitterMs ?? 10_000)).unref();
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
    const ops: RecordOp[] = [];
    const fb = this.opts.facebank;
    for (const rec of batch) {
      const key = recordKey(rec.kind, rec.id);
      if (decide(staged.get(key) ?? this.state.entry(key), rec) !== 'apply') continue;
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
    /** The names of the people applied (as the owner stored them): a name clash needs one of them. */
    const named = new Set<string>();
    const now = Date.now();
    for (const [key, rec] of staged) {
      if (unplaced.has(rec.id) && rec.kind === 'sample' && !rec.deleted) {
        this.parked.set(rec.personId, [...(this.parked.get(rec.personId) ?? []), rec]);
        continue;
      }
      const h = parseHlc(rec.version);
      if (h) this.clock.observe(h);
      // The name as the owner stored it (its name rules may have changed it).
      const stored = rec.kind === 'person' && !rec.deleted ? await fb.person(rec.id) : null;
      if (stored) named.add(nameKey(stored.name));
      this.state.set(
        key,
        {
          version: rec.version,
          origin: rec.origin,
          deleted: rec.deleted,
          ...(rec.deleted ? { expires: rec.expires } : stored ? { sum: nameSum(stored.name) } : {}),
        },
        false,
      );
      this.counts.applied++;
      if (rec.deleted && expired(rec, now)) await this.clear(rec.kind, rec.id);
      if (rec.kind === 'person' && !rec.deleted && this.parked.has(rec.id)) {
        this.receiveRecord(...this.parked.get(rec.id)!);
        this.parked.delete(rec.id);
      }
    }
    this.state.setLastSync(new Date().toISOString());
    this.scheduleSave();
    if (named.size) await this.settleNameClashes(named);
  }

  /**
   * Queue valid records for the next drain. While catching up (the probe not back yet) records are gathered for up
   * to a second (or 2,000 records) first: each drain is one `applyRemote` (one facebank frame), so a new box applying
   * thousands of records in a few large batches does far less work than in many small ones.
   */
  private receiveRecord(...recs: SyncRecord[]): void {
    this.inbox.push(...recs);
    if (this.drainTimer && this.inbox.length >= 2000) return this.drainNow();
    if (this.draining) return;
    this.draining = true;
    if (!this.catchingUp) return this.enqueue(() => this.drain());
    this.drainTimer = setTimeout(() => this.drainNow(), 1000);
    this.drainTimer.unref();
  }

  /** Drain what is gathered now (before a catch-up completes, so that it sees every record received before the probe). */
  private drainNow(): void {
    if (!this.drainTimer) return;
    clearTimeout(this.drainTimer);
    this.drainTimer = null;
    this.enqueue(() => this.drain());
  }

  /** The sample as stored here: re-embedded from its crop when made by another embedder. */
  private async localSample(rec: SampleRecord): Promise<Sample> {
    const s: Sample = {
      id: rec.id,
      personId: rec.personId,
      embedding: Float32Array.from(rec.embedding),
      modelId: rec.modelId,
      quality: rec.quality,
      source: rec.source,
      created: rec.created,
      negative: rec.negative,
    };
    if (rec.modelId === this.opts.embedderId) return s;
    const { data, info } = await sharp(Buffer.from(rec.crop, 'base64')).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const [e] = await this.opts.embedAligned([{ width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }]);
    if (!e) throw new FacegateError('sync_embed', `The embedder returned nothing for sample ${rec.id}.`);
    return { ...s, embedding: e, modelId: this.opts.embedderId };
  }

  /** Clear the retained tombstones past their expiry and forget them. */
  private async expire(): Promise<void> {
    const now = Date.now();
    for (const [key, e] of [...this.state.records]) {
      if (!e.deleted || (e.expires ?? Infinity) > now) continue;
      const [kind, id] = key.split('/') as [RecordKind, string];
      await this.clear(kind, id);
    }
  }

  private async clear(kind: RecordKind, id: string): Promise<void> {
    if (!this.mayPublish) return;
    await this.opts.link.publishNow(syncTopic(this.prefix, kind, id), Buffer.alloc(0), { retain: true });
    this.state.set(recordKey(kind, id), undefined, false);
    this.scheduleSave();
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.enqueue(() => this.state.flush());
    }, 200);
    this.saveTimer.unref();
  }
}
