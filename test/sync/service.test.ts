/**
 * The sync unit in-process against a real mosquitto: without a site key it refuses to start unless
 * sync.allowPlaintext says so; with a key, what it publishes is sealed; changes made before start are published,
 * however many (a bounded number at once).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSchema, syncSchema } from '../../src/config/schema.js';
import { facebankPort } from './port.js';
import { Bus } from '../../src/events/bus.js';
import { MqttTransport } from '../../src/mqtt/transport.js';
import { Facebank } from '../../src/store/facebank.js';
import type { SyncLink } from '../../src/sync/ports.js';
import { FacebankSync, MAX_IN_FLIGHT } from '../../src/sync/service.js';
import { silentLogger } from '../../src/util/log.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { subscriber, type Received } from '../mqtt/util.js';

const crop = { width: 112, height: 112, data: new Uint8Array(112 * 112 * 3).fill(128) };
const quality = { size: 112, score: 0.9, blur: 100, yaw: 0, pitch: 0, roll: 0 };

describe.skipIf(!hasMosquitto)('FacebankSync with a real broker', { timeout: 60_000 }, () => {
  const broker = new Mosquitto();
  const dirs: string[] = [];
  const links: MqttTransport[] = [];
  beforeAll(() => broker.start());
  afterAll(async () => {
    for (const l of links) await l.stop();
    await broker.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  async function setup(sync: Record<string, unknown>, prefix: string, who = { appliance: 'unit', name: 'Ada' }, wrap = (l: SyncLink) => l) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fg-sync-unit-'));
    dirs.push(dir);
    const bus = new Bus();
    const fb = new Facebank(dir, { bus });
    await fb.open();
    const p = await fb.createPerson(who.name);
    await fb.addSample(p.id, { embedding: [1, 2, 3], modelId: 'm1', quality, source: 'cli', crop });
    const link = new MqttTransport({
      config: mqttSchema.parse({ prefix }),
      availabilityTopic: `${prefix}/available`,
      url: broker.url,
      clientId: `${prefix}-${who.appliance}`,
      log: silentLogger(),
      reconnectPeriodMs: 200,
    });
    links.push(link);
    link.start();
    const s = new FacebankSync({
      config: syncSchema.parse({ enabled: true, applianceId: who.appliance, ...sync }),
      link: wrap(link),
      prefix,
      dataDir: dir,
      facebank: facebankPort(fb),
      bus,
      embedderId: 'm1',
      embedAligned: async () => [],
      republishJitterMs: 500,
    });
    return { fb, sync: s, link };
  }

  it('refuses to start without a key, with a clear message', async () => {
    const { fb, sync } = await setup({}, 'nokey');
    await expect(sync.start()).rejects.toThrow(/FACEGATE_SYNC_KEY/);
    await fb.close();
  });

  it('publishes the changes made before it started, sealed with the key', async () => {
    const got: Received[] = [];
    const sub = await subscriber(broker.url, 'sealed/facebank/#', {}, got);
    const { fb, sync } = await setup({ key: randomBytes(32).toString('hex') }, 'sealed');
    await sync.start();
    const end = Date.now() + 20_000;
    const records = () => got.filter((m) => !m.topic.includes('/probe/'));
    while (records().length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(
      records()
        .map((m) => m.topic.split('/')[2])
        .sort(),
    ).toEqual(['person', 'sample']);
    for (const m of got) {
      expect(m.payload.startsWith('FGS1')).toBe(true);
      expect(m.payload).not.toContain('Ada');
    }
    while (sync.stats.pending > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(sync.stats).toMatchObject({ pending: 0, encrypted: true });
    expect(sync.stats.sent).toBeGreaterThanOrEqual(2);
    await sync.stop();
    await fb.close();
    await sub.client.endAsync();
    // Retained: a box that connects later receives them.
    const late = await subscriber(broker.url, 'sealed/facebank/+/+');
    const until = Date.now() + 10_000;
    while (late.got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(late.got.map((m) => m.retain)).toEqual([true, true]);
    await late.client.endAsync();
  });

  it('with allowPlaintext sends clear JSON (the documented, opt-in exception)', async () => {
    const got: Received[] = [];
    const sub = await subscriber(broker.url, 'plain/facebank/person/+', {}, got);
    const { fb, sync } = await setup({ allowPlaintext: true }, 'plain');
    await sync.start();
    const end = Date.now() + 20_000;
    while (got.length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse(got[0]!.payload)).toMatchObject({ kind: 'person', name: 'Ada', origin: 'unit' });
    await sync.stop();
    await fb.close();
    await sub.client.endAsync();
  });

  it('two boxes that each enrolled a different "Sam" keep both people; the later one is renamed after its box, everywhere', async () => {
    const key = randomBytes(32).toString('hex');
    const a = await setup({ key }, 'clash', { appliance: 'box-a', name: 'Sam' });
    const b = await setup({ key }, 'clash', { appliance: 'box-b', name: 'Sam' });
    await a.sync.start();
    await b.sync.start();
    const view = async (x: typeof a) =>
      Promise.all((await x.fb.people()).map(async (p) => `${p.id} ${x.sync.origin(p.id)} ${(await x.fb.samples(p.id)).length} ${p.name}`)).then((v) =>
        v.sort(),
      );
    const end = Date.now() + 30_000;
    const settled = async () => {
      const [va, vb] = [await view(a), await view(b)];
      return (
        va.length === 2 &&
        JSON.stringify(va) === JSON.stringify(vb) &&
        new Set(va.map((x) => x.split(' ').slice(3).join(' '))).size === 2 &&
        va.every((x) => x.split(' ')[2] === '1')
      );
    };
    while (!(await settled()) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const people = await a.fb.people();
    expect(people).toHaveLength(2);
    expect(await view(b)).toEqual(await view(a));
    const kept = people.find((p) => p.name === 'Sam')!;
    const renamed = people.find((p) => p.name !== 'Sam')!;
    // The renamed one is named after the box it was enrolled on, on both boxes, and keeps its face.
    expect(renamed.name).toBe(`Sam (${a.sync.origin(renamed.id)})`);
    expect(b.sync.origin(renamed.id)).toBe(a.sync.origin(renamed.id));
    expect(a.sync.origin(kept.id)).not.toBe(a.sync.origin(renamed.id));
    for (const fb of [a.fb, b.fb]) for (const p of people) expect(await fb.samples(p.id)).toHaveLength(1);
    for (const x of [a, b]) {
      await x.sync.stop();
      await x.fb.close();
    }
  });

  it('publishes a facebank of more records than it sends at once: all of them, never more than MAX_IN_FLIGHT unacknowledged', async () => {
    let inFlight = 0;
    let most = 0;
    // The real transport, counting the publishes the broker has not acknowledged yet.
    const counting = (l: SyncLink): SyncLink => ({
      get connected() {
        return l.connected;
      },
      subscribe: (filter, handler) => l.subscribe(filter, handler),
      onConnectionChange: (listener) => l.onConnectionChange(listener),
      publishNow: async (topic, payload, opts) => {
        most = Math.max(most, ++inFlight);
        try {
          await l.publishNow(topic, payload, opts);
        } finally {
          inFlight--;
        }
      },
    });
    const { fb, sync } = await setup({ key: randomBytes(32).toString('hex') }, 'many', undefined, counting);
    const jpeg = await readFile(fb.cropPath((await fb.samples())[0]!.id));
    const people = 400;
    await fb.applyBatch(
      Array.from({ length: people }, (_, i) => {
        const person = { id: randomUUID(), name: `Person ${i}`, created: new Date().toISOString(), notes: '' };
        const sample = {
          id: randomUUID(),
          personId: person.id,
          embedding: Float32Array.from([1, 2, i]),
          modelId: 'm1',
          quality,
          source: 'cli' as const,
          created: person.created,
          negative: false,
        };
        return [
          { op: 'person' as const, person },
          { op: 'sample' as const, sample, jpeg },
        ];
      }).flat(),
    );
    const records = 2 * (people + 1);
    expect(records).toBeGreaterThan(2 * MAX_IN_FLIGHT);
    await sync.start();
    const end = Date.now() + 45_000;
    while ((sync.stats.sent < records || sync.stats.pending > 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(sync.stats.pending).toBe(0);
    // More when the jittered check after the catch-up ran before the broker echoed some of them back (republished).
    expect(sync.stats.sent).toBeGreaterThanOrEqual(records);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    await sync.stop();
    await fb.close();
    // All of them are on the broker, retained.
    const late = await subscriber(broker.url, 'many/facebank/+/+');
    const until = Date.now() + 20_000;
    while (late.got.length < records && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(new Set(late.got.map((m) => m.topic)).size).toBe(records);
    await late.client.endAsync();
  });
});
