/**
 * The appliance end to end with real parts: GStreamer RTSP server → ffmpeg → batched engine → facebank matching →
 * tracking → mosquitto. Enrols the two people of the clip plus distractors, then watches MQTT. Each fault is a real
 * process killed with SIGKILL: the RTSP server, and the broker mid-stream with a persistent QoS-1 subscriber.
 * A second group starts the appliance against a broker that is down, and one that refuses its credentials.
 * Every test waits on conditions and leaves the shared parts running, so the tests do not depend on their order.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { startAppliance, type Appliance } from '../../src/app/appliance.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { decodeImage } from '../../src/ingest/still.js';
import { engineFromConfig } from '../../src/engine/setup.js';
import { Facebank } from '../../src/store/facebank.js';
import { silentLogger } from '../../src/util/log.js';
import { chooseFace } from '../../src/engine/choose-face.js';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { hasRtspServer, RtspServer } from '../helpers/rtsp.js';
import { captureLogger } from '../ingest/util.js';
import { subscriber, type Received } from '../mqtt/util.js';
import type { RecognitionEvent } from '../../src/events/types.js';

const ready = hasTestData && hasMosquitto && hasRtspServer;

const clip = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');
const KNOWN = ['Lin-Manuel Miranda', 'Alex Lacamoire'];
const STALE_S = 4;
/** The stage camera's retained status: <prefix>/<applianceId>/cameras/stage/status. */
const isStageStatus = (topic: string) => /^fg\/[^/]+\/cameras\/stage\/status$/.test(topic);

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Received copies per event id, from the events topics. */
function copiesById(got: Received[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const msg of got.filter((x) => x.topic.endsWith('/events'))) {
    const id = (JSON.parse(msg.payload) as RecognitionEvent).id;
    m.set(id, [...(m.get(id) ?? []), msg.payload]);
  }
  return m;
}

describe.skipIf(!ready)('live pipeline over RTSP and MQTT', () => {
  let dataDir: string;
  let rtsp: RtspServer;
  let broker: Mosquitto;
  let app: Appliance;
  let sub: { client: import('mqtt').MqttClient; got: Received[] };
  const emitted: (RecognitionEvent & { at: number })[] = [];
  const events = () => sub.got.filter((m) => m.topic.endsWith('/events')).map((m) => JSON.parse(m.payload) as RecognitionEvent);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-e2e-'));
    rtsp = new RtspServer(clip, 30);
    // Sessions saved every second: the persistent subscriber's session survives the broker's SIGKILL.
    broker = new Mosquitto({ persistence: true, autosaveSeconds: 1 });
    await Promise.all([rtsp.start(), broker.start()]);

    const config: Config = configSchema.parse({
      dataDir,
      engine: { enginesDir: path.join(repoRoot, 'engines') },
      cameras: [
        { name: 'stage', url: rtsp.url },
        { name: 'broken', url: 'rtsp://127.0.0.1:9/nothing' },
      ],
      pipeline: { fps: 5, staleAfterSeconds: STALE_S, maxBackoffSeconds: 30, statusIntervalSeconds: 2 },
      mqtt: { url: broker.url, prefix: 'fg' },
      web: { enabled: false },
    });

    // Enrol the two people of the clip and distractors from the identity set, as `facegate enroll` does.
    const engine = await engineFromConfig(config);
    const fb = new Facebank(dataDir);
    await fb.open();
    const enrol = async (name: string, files: string[]) => {
      const p = await fb.createPerson(name);
      for (const f of files) {
        const [r] = await engine.analyze([await decodeImage(f)], config.pipeline.quality);
        const c = chooseFace(r!);
        if (c.kind === 'face')
          await fb.addSample(p.id, { embedding: c.face.embedding, modelId: engine.embedderId, quality: c.face.quality, source: 'cli', crop: c.face.aligned });
      }
    };
    await enrol('Lin-Manuel Miranda', [dataPath('video', 'hamilton', 'lin-manuel-miranda.png')]);
    await enrol('Alex Lacamoire', [dataPath('video', 'hamilton', 'alex-lacamoire.png')]);
    for (const who of ['amy', 'howard', 'leonard', 'penny', 'raj', 'sheldon']) {
      const dir = dataPath('identity', 'bbt', who);
      await enrol(
        who,
        readdirSync(dir).map((f) => path.join(dir, f)),
      );
    }
    await fb.close();
    await engine.close();

    sub = await subscriber(broker.url, 'fg/#', { clean: false, clientId: 'e2e-watcher' });
    app = await startAppliance(config, { log: silentLogger() });
    app.bus.on('recognition', (e) => emitted.push({ ...e, at: Date.now() }));
  }, 240_000);

  afterAll(async () => {
    await app?.stop();
    await sub?.client.endAsync();
    await rtsp?.dispose();
    await broker?.dispose();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('names only enrolled people of the clip, reports unknown faces as unknown, and never retains events', async () => {
    await until('a named recognition event', () => events().some((e) => e.person !== null), 90_000);
    await until('an unknown-face event', () => events().some((e) => e.person === null && e.type === 'new'), 90_000);
    const evs = events();
    const named = new Set(evs.filter((e) => e.person).map((e) => e.person!.name));
    expect(named.has('Lin-Manuel Miranda')).toBe(true);
    for (const n of named) expect(KNOWN).toContain(n);
    for (const m of sub.got.filter((m) => m.topic.endsWith('/events') || m.topic.startsWith('fg/people/') || m.topic === 'fg/unknown'))
      expect(m.retain).toBe(false);
    const e = evs[0]!;
    for (const key of ['type', 'id', 'camera', 'track', 'person', 'similarity', 'confidence', 'box', 'quality', 'frameTime', 'publishTime', 'snapshot'])
      expect(e).toHaveProperty(key);
    expect(sub.got.some((m) => m.topic.startsWith('fg/people/'))).toBe(true);
  }, 200_000);

  it('reports a wrong camera URL clearly while the other camera keeps working', async () => {
    const statuses = (cam: string) => sub.got.filter((m) => m.topic.endsWith(`/cameras/${cam}/status`)).map((m) => JSON.parse(m.payload));
    await until('broken camera offline with a reason', () => statuses('broken').some((st) => st.state === 'offline' && st.lastError), 30_000);
    expect(statuses('broken').find((st) => st.state === 'offline' && st.lastError).lastError).toMatch(/refused/);
    // The stage camera's status, re-published with live figures, says online with frames flowing.
    const mark = sub.got.length;
    await until('a fresh stage status', () => sub.got.slice(mark).some((m) => isStageStatus(m.topic) && JSON.parse(m.payload).state === 'online'), 30_000);
    const stage = JSON.parse(
      sub.got
        .slice(mark)
        .filter((m) => isStageStatus(m.topic))
        .at(-1)!.payload,
    );
    expect(stage.state).toBe('online');
    expect(stage.fps).toBeGreaterThan(1);
    expect(Date.now() - Date.parse(stage.lastFrameTime)).toBeLessThan(5000);
  });

  it('RTSP server SIGKILLed: offline within staleAfterSeconds, back within 10 s of its return, events resume', async () => {
    const stageStatus = (from: number, state: string) => sub.got.slice(from).find((m) => isStageStatus(m.topic) && JSON.parse(m.payload).state === state);
    const latest = () => JSON.parse(sub.got.filter((m) => isStageStatus(m.topic)).at(-1)?.payload ?? '{}');
    await until('stage online', () => app.publisher.stats.connected && latest().state === 'online', 60_000);
    const mark = sub.got.length;
    const killedAt = Date.now();
    await rtsp.stop(); // SIGKILL
    await until('offline status', () => stageStatus(mark, 'offline') !== undefined, 20_000);
    const offlineAfter = Date.now() - killedAt;
    // A subscriber arriving now gets the offline state as a retained message.
    const late = await subscriber(broker.url, 'fg/+/cameras/stage/status');
    await until('retained status', () => late.got.length > 0, 10_000);
    await late.client.endAsync();
    expect(late.got[0]!.retain).toBe(true);
    expect(JSON.parse(late.got[0]!.payload).state).toBe('offline');
    // A long enough outage for the backoff to grow (1 + 2 + 4 s behind, 8 s ahead), then the server returns.
    const restartsAtKill = latest().restarts as number;
    await until('three failed restarts', () => latest().restarts >= restartsAtKill + 3, 60_000);
    const back = sub.got.length;
    const backAt = Date.now();
    await rtsp.restart();
    await until('online again', () => stageStatus(back, 'online') !== undefined, 10_000 + 2000);
    const onlineAfter = Date.now() - backAt;
    await until('an event from frames after the return', () => emitted.some((e) => e.camera === 'stage' && Date.parse(e.frameTime) > backAt), 90_000);
    console.log(
      `[e2e] RTSP SIGKILL: offline after ${(offlineAfter / 1000).toFixed(1)} s, online ${(onlineAfter / 1000).toFixed(1)} s after the server returned`,
    );
    expect(offlineAfter).toBeLessThanOrEqual(STALE_S * 1000 + 1000);
    expect(onlineAfter).toBeLessThanOrEqual(10_000);
  }, 180_000);

  it('broker SIGKILLed mid-stream: every emitted event reaches the persistent QoS-1 subscriber; duplicates only of events in flight, same payload', async () => {
    await until(
      'events flowing to the subscriber',
      () => {
        const got = copiesById(sub.got);
        return app.publisher.stats.connected && emitted.filter((e) => e.at > Date.now() - 20_000).some((e) => got.has(e.id));
      },
      90_000,
    );
    const killIdx = emitted.length;
    await broker.stop(); // SIGKILL: no clean disconnect, nothing saved but the last autosave
    sub.client.end(true); // the subscriber stays away until the appliance has delivered everything to the broker
    await until('events emitted while the broker is down', () => emitted.length >= killIdx + 3, 120_000);
    const duringOutage = emitted.length - killIdx;
    expect(app.publisher.stats.queued).toBeGreaterThanOrEqual(duringOutage);
    const backAt = Date.now();
    await broker.start();
    await until('the appliance reconnected', () => app.publisher.stats.connected, 20_000);
    const reconnectS = (Date.now() - backAt) / 1000;
    await until('the queue drained into the broker', () => app.publisher.stats.queued === 0, 30_000);
    // The subscriber returns: its session (saved before the SIGKILL) has kept what was published meanwhile.
    sub = await subscriber(broker.url, 'fg/#', { clean: false, clientId: 'e2e-watcher' }, sub.got);
    const cut = emitted.slice();
    await until(
      'every event emitted up to the restart delivered',
      () => {
        const got = copiesById(sub.got);
        return cut.every((e) => got.has(e.id));
      },
      60_000,
    );
    const got = copiesById(sub.got);
    const mine = cut.filter((e) => got.has(e.id));
    expect(mine.length).toBe(cut.length);
    // QoS 1 may deliver twice what was in flight when the broker died (its PUBACK lost); the payload id tells.
    const dups = [...got.entries()].filter(([, copies]) => copies.length > 1);
    const emittedIdx = new Map(emitted.map((e, i) => [e.id, i]));
    for (const [id, copies] of dups) {
      expect(emittedIdx.get(id)!).toBeLessThan(killIdx);
      expect(new Set(copies).size).toBe(1);
    }
    const received = cut.reduce((n, e) => n + got.get(e.id)!.length, 0);
    console.log(
      `[e2e] broker SIGKILL: ${cut.length} emitted (${duringOutage} while it was down), ${received} received, ${received - cut.length} duplicates (${dups.length} ids), reconnected ${reconnectS.toFixed(1)} s after it returned`,
    );
  }, 240_000);
});

describe.skipIf(!hasTestData || !hasMosquitto)('broker trouble from the start', () => {
  let dir: string;
  let app: Appliance | null = null;
  let broker: Mosquitto | null = null;
  let watcher: { client: import('mqtt').MqttClient; got: Received[] } | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-e2e-broker-'));
  });
  afterEach(async () => {
    await app?.stop();
    await watcher?.client.endAsync(true);
    await broker?.dispose();
    app = broker = watcher = null;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The appliance on a looping file camera with an empty facebank: every face is an unknown-face event. */
  const start = async (name: string, mqttOver: Record<string, unknown>, log = silentLogger()) => {
    const config: Config = configSchema.parse({
      dataDir: path.join(dir, name),
      engine: { enginesDir: path.join(repoRoot, 'engines') },
      cameras: [{ name: 'door', url: clip, loop: true }],
      pipeline: { fps: 5 },
      mqtt: { prefix: name, ...mqttOver },
      web: { enabled: false },
    });
    const emitted: RecognitionEvent[] = [];
    const a = await startAppliance(config, { log });
    a.bus.on('recognition', (e) => emitted.push(e));
    app = a;
    return { app: a, emitted };
  };

  it('broker down when the appliance starts: events wait in the queue and all arrive once it is up', async () => {
    broker = new Mosquitto({ persistence: true });
    await broker.start();
    // A persistent subscriber's session exists, then the broker goes (saving it).
    watcher = await subscriber(broker.url, 'down/+/events', { clean: false, clientId: 'down-watcher' });
    await watcher.client.endAsync();
    await broker.stop(true);
    const { app, emitted } = await start('down', { url: broker.url });
    await until('events emitted with the broker down', () => emitted.length >= 3, 90_000);
    expect(app.publisher.stats.connected).toBe(false);
    expect(app.publisher.stats.queued).toBeGreaterThanOrEqual(3);
    const beforeBroker = emitted.length;
    await broker.start();
    watcher = await subscriber(broker.url, 'down/+/events', { clean: false, clientId: 'down-watcher' });
    await until('the appliance connected', () => app.publisher.stats.connected, 20_000);
    const cut = emitted.slice();
    await until('every queued event delivered', () => cut.every((e) => copiesById(watcher!.got).has(e.id)), 60_000);
    expect(cut.length).toBeGreaterThanOrEqual(beforeBroker);
    expect(app.publisher.stats.dropped).toBe(0);
  }, 180_000);

  it('broker refuses the credentials: one clear log line, not connected, events queued, all delivered once it accepts them', async () => {
    broker = new Mosquitto({ persistence: true, users: { facegate: 'the right password', watcher: 'watching' } });
    await broker.start();
    watcher = await subscriber(broker.url, 'auth/+/events', { clean: false, clientId: 'auth-watcher', username: 'watcher', password: 'watching' });
    const { log, lines } = captureLogger();
    const { app, emitted } = await start('auth', { url: broker.url, username: 'facegate', password: 'a wrong password' }, log);
    await until('events emitted while refused', () => emitted.length >= 3, 90_000);
    const refusals = lines.filter((l) => /refused the credentials/.test(String(l.msg)));
    expect(refusals).toHaveLength(1);
    expect(String(refusals[0]!.msg)).toMatch(/check mqtt\.username and mqtt\.password/);
    expect(JSON.stringify(lines)).not.toContain('a wrong password');
    expect(app.publisher.stats.connected).toBe(false);
    expect(app.publisher.stats.queued).toBeGreaterThanOrEqual(3);
    expect(copiesById(watcher.got).size).toBe(0);
    // The operator fixes the broker's side; the watcher's saved session takes what arrives meanwhile.
    broker.setUsers({ facegate: 'a wrong password', watcher: 'watching' });
    await broker.restart(true);
    await until('the appliance connected', () => app.publisher.stats.connected, 30_000);
    const cut = emitted.slice();
    await until('every queued event delivered', () => cut.every((e) => copiesById(watcher!.got).has(e.id)), 60_000);
    expect(app.publisher.stats.dropped).toBe(0);
  }, 180_000);
});
