/**
 * The appliance end to end with real parts: GStreamer RTSP server → ffmpeg → batched engine → facebank matching →
 * tracking → mosquitto. Enrols the two people of the Hamilton clip plus distractors, then watches MQTT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { startAppliance, type Appliance } from '../../src/app.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { decodeImage } from '../../src/ingest/still.js';
import { engineFromConfig } from '../../src/engine/setup.js';
import { Facebank } from '../../src/store/facebank.js';
import { silentLogger } from '../../src/util/log.js';
import { chooseFace } from '../../src/engine/choose-face.js';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { hasRtspServer, RtspServer } from '../helpers/rtsp.js';
import { subscriber, type Received } from '../mqtt/util.js';
import type { RecognitionEvent } from '../../src/pipeline/events.js';

const ready = hasTestData && hasMosquitto && hasRtspServer;

const clip = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');
const KNOWN = ['Lin-Manuel Miranda', 'Alex Lacamoire'];

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!ready)('live pipeline over RTSP and MQTT', () => {
  let dataDir: string;
  let rtsp: RtspServer;
  let broker: Mosquitto;
  let app: Appliance;
  let sub: { client: import('mqtt').MqttClient; got: Received[] };
  const emitted: RecognitionEvent[] = [];
  const events = () => sub.got.filter((m) => m.topic.endsWith('/events')).map((m) => JSON.parse(m.payload) as RecognitionEvent);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-e2e-'));
    rtsp = new RtspServer(clip, 30);
    broker = new Mosquitto({ persistence: true });
    await Promise.all([rtsp.start(), broker.start()]);

    const config: Config = configSchema.parse({
      dataDir,
      engine: { enginesDir: path.join(repoRoot, 'engines') },
      cameras: [
        { name: 'stage', url: rtsp.url },
        { name: 'broken', url: 'rtsp://127.0.0.1:9/nothing' },
      ],
      pipeline: { fps: 5, staleAfterSeconds: 4, maxBackoffSeconds: 2 },
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
        if (c.kind === 'face') await fb.addSample(p.id, { embedding: c.face.embedding, modelId: engine.embedderId, quality: c.face.quality, source: 'cli', crop: c.face.aligned });
      }
    };
    await enrol('Lin-Manuel Miranda', [dataPath('video', 'hamilton', 'lin-manuel-miranda.png')]);
    await enrol('Alex Lacamoire', [dataPath('video', 'hamilton', 'alex-lacamoire.png')]);
    for (const who of ['amy', 'howard', 'leonard', 'penny', 'raj', 'sheldon']) {
      const dir = dataPath('identity', 'bbt', who);
      await enrol(who, readdirSync(dir).map((f) => path.join(dir, f)));
    }
    await fb.close();
    await engine.close();

    sub = await subscriber(broker.url, 'fg/#', { clean: false, clientId: 'e2e-watcher' });
    app = await startAppliance(config, { log: silentLogger() });
    app.bus.on('recognition', (e) => emitted.push(e));
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
    for (const m of sub.got.filter((m) => m.topic.endsWith('/events') || m.topic.startsWith('fg/people/') || m.topic === 'fg/unknown')) expect(m.retain).toBe(false);
    const e = evs[0]!;
    for (const key of ['type', 'id', 'camera', 'track', 'person', 'similarity', 'confidence', 'box', 'quality', 'frameTime', 'publishTime', 'snapshot']) expect(e).toHaveProperty(key);
    expect(sub.got.some((m) => m.topic.startsWith('fg/people/'))).toBe(true);
  }, 200_000);

  it('reports a wrong camera URL clearly while the other camera keeps working', async () => {
    const brokenOffline = () => sub.got.filter((m) => m.topic === 'fg/broken/status').map((m) => JSON.parse(m.payload)).find((st) => st.state === 'offline' && st.lastError);
    await until('broken camera offline with a reason', () => !!brokenOffline(), 30_000);
    expect(brokenOffline().lastError).toMatch(/refused/);
    const stage = JSON.parse(sub.got.filter((m) => m.topic === 'fg/stage/status').at(-1)!.payload);
    expect(stage.state).toBe('online');
  });

  it('marks the camera offline when the RTSP server dies and recovers by itself', async () => {
    const mark = sub.got.length;
    await rtsp.stop();
    await until('offline status', () => sub.got.slice(mark).some((m) => m.topic === 'fg/stage/status' && JSON.parse(m.payload).state === 'offline'), 30_000);
    // A subscriber arriving now gets the offline state as a retained message.
    const late = await subscriber(broker.url, 'fg/stage/status');
    await until('retained status', () => late.got.length > 0, 10_000);
    await late.client.endAsync();
    expect(late.got[0]!.retain).toBe(true);
    expect(JSON.parse(late.got[0]!.payload).state).toBe('offline');
    await rtsp.restart();
    await until('online again', () => sub.got.slice(mark).some((m) => m.topic === 'fg/stage/status' && JSON.parse(m.payload).state === 'online'), 60_000);
  }, 120_000);

  it('loses no QoS-1 event across a broker restart', async () => {
    await broker.restart(true);
    // Let recognition continue across the outage, then compare what the pipeline emitted with what arrived.
    await until('new events after restart', () => emitted.length > 0 && app.publisher.stats.connected, 60_000);
    await new Promise((r) => setTimeout(r, 8000));
    await until('queue drained', () => app.publisher.stats.queued === 0 && app.publisher.stats.connected, 60_000);
    // Every event emitted up to now must arrive; recognition goes on meanwhile, so later ones are not counted.
    const stageEmitted = emitted.filter((e) => e.camera === 'stage');
    const missing = () => {
      const got = new Set(events().map((e) => e.id));
      return stageEmitted.filter((e) => !got.has(e.id));
    };
    await until('every emitted event delivered', () => missing().length === 0, 10_000).catch(() => {});
    expect(stageEmitted.length).toBeGreaterThan(0);
    expect(missing()).toEqual([]);
  }, 150_000);
});
