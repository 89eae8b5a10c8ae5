import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { HomeAssistantPublisher } from '../../src/mqtt/homeassistant-publisher.js';
import { MqttPublisher } from '../../src/mqtt/publisher.js';
import type { PersonRef } from '../../src/events/types.js';
import { startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { Bus } from '../../src/events/bus.js';
import { FacegateError } from '../../src/util/errors.js';
import { Mosquitto, hasMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../ingest/util.js';
import { event, mqttConfig, status, subscriber } from './util.js';

const ann = { id: 'p-ann', name: 'Ann' };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const track = <T extends { end(force?: boolean): unknown } | MqttPublisher>(x: T): T => {
  cleanups.push(() => (x instanceof MqttPublisher ? x.stop() : (x as unknown as MqttClient).endAsync(true)));
  return x;
};

function publisher(url: string, over: Record<string, unknown> = {}, extra: Partial<ConstructorParameters<typeof MqttPublisher>[0]> = {}) {
  const bus = new Bus();
  const config = mqttConfig({ url, clientId: `fg-${Math.random().toString(36).slice(2)}`, ...over });
  const pub = track(new MqttPublisher({ config, bus, ...extra }));
  return { bus, pub, config };
}

/** A publisher with Home Assistant on its connection, as the appliance's home assistant unit builds it. */
function withHomeAssistant(url: string, over: Record<string, unknown>, people: () => PersonRef[], cameras: () => string[] = () => []) {
  const p = publisher(url, over);
  const ha = new HomeAssistantPublisher({ config: p.config, bus: p.bus, channel: p.pub.retained, people, cameras });
  cleanups.push(() => ha.stop());
  return { ...p, ha };
}

describe.skipIf(!hasMosquitto)('MqttPublisher with real mosquitto', { timeout: 30_000 }, () => {
  const broker = new Mosquitto();
  beforeAll(() => broker.start());
  afterAll(() => broker.dispose());

  it('publishes events to the camera, person and unknown topics, not retained; status and online retained', async () => {
    const prefix = 't1';
    const live = track((await subscriber(broker.url, `${prefix}/#`)).client);
    const liveGot: { topic: string; payload: string; retain: boolean }[] = [];
    live.on('message', (topic, payload, p) => liveGot.push({ topic, payload: payload.toString(), retain: p.retain }));
    const { bus, pub } = publisher(broker.url, { prefix });
    const conn: boolean[] = [];
    bus.on('mqttConnection', (c) => conn.push(c.connected));
    pub.start();
    await waitFor(() => pub.stats.connected, 5000, 'connect');
    expect(conn).toEqual([true]);

    bus.emit('cameraStatus', status('door'));
    const known = event('door', ann);
    const unknown = event('door', null);
    bus.emit('recognition', known, { embedding: new Float32Array(192) });
    bus.emit('recognition', unknown, { embedding: null });
    await waitFor(() => pub.stats.published === 2, 5000, 'two events acked');
    await waitFor(() => liveGot.filter((m) => !m.topic.endsWith('available')).length >= 5, 5000, 'messages at the live subscriber');

    const on = (t: string) => liveGot.filter((m) => m.topic === t);
    expect(on(`${prefix}/door/events`).map((m) => JSON.parse(m.payload))).toEqual([known, unknown]);
    expect(on(`${prefix}/people/p-ann`).map((m) => JSON.parse(m.payload).id)).toEqual([known.id]);
    expect(on(`${prefix}/unknown`).map((m) => JSON.parse(m.payload).id)).toEqual([unknown.id]);
    expect(JSON.parse(on(`${prefix}/door/status`)[0]!.payload)).toMatchObject({ camera: 'door', state: 'online' });
    expect(JSON.stringify(liveGot)).not.toContain('embedding');

    // A late subscriber gets the retained status and "online", but no event.
    const late = await subscriber(broker.url, `${prefix}/#`);
    track(late.client);
    // The broker sends retained messages on subscribe, before anything published later: a marker ends the wait.
    await late.client.publishAsync(`${prefix}/marker`, 'end', { qos: 1 });
    await waitFor(() => late.got.some((m) => m.topic === `${prefix}/marker`), 5000, 'the marker');
    late.got.splice(
      late.got.findIndex((m) => m.topic === `${prefix}/marker`),
      1,
    );
    const topicsLate = late.got.map((m) => m.topic).sort();
    expect(topicsLate).toEqual([`${prefix}/available`, `${prefix}/door/status`]);
    expect(late.got.every((m) => m.retain)).toBe(true);
    expect(late.got.find((m) => m.topic === `${prefix}/available`)!.payload).toBe('online');
    expect(pub.stats).toMatchObject({ connected: true, published: 2, queued: 0, dropped: 0 });
  });

  it('last will: "offline" when the client dies abruptly; graceful stop also leaves "offline" retained', async () => {
    const prefix = 't2';
    const sub = await subscriber(broker.url, `${prefix}/available`);
    track(sub.client);
    const { pub } = publisher(broker.url, { prefix });
    pub.start();
    await waitFor(() => sub.got.some((m) => m.payload === 'online'), 5000, 'online');
    // Kill the TCP connection under the client: the broker sends the will.
    (pub as unknown as { transport: { client: MqttClient } }).transport.client.stream.destroy();
    await waitFor(() => sub.got.some((m) => m.payload === 'offline'), 5000, 'last will');
    // It reconnects by itself and says online again.
    const n = sub.got.length;
    await waitFor(() => sub.got.slice(n).some((m) => m.payload === 'online'), 5000, 'online again');
    await pub.stop();
    const late = await subscriber(broker.url, `${prefix}/available`);
    track(late.client);
    await waitFor(() => late.got.length > 0, 3000, 'retained availability');
    expect(late.got[0]).toMatchObject({ payload: 'offline', retain: true });
  });

  it('embedded aedes broker accepts a subscriber and delivers events', async () => {
    const emb = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => emb.stop());
    const sub = await subscriber(emb.url, 'facegate/#');
    track(sub.client);
    const { bus, pub } = publisher(emb.url);
    pub.start();
    await waitFor(() => pub.stats.connected, 5000, 'connect to aedes');
    const e = event('gate', ann);
    bus.emit('recognition', e, { embedding: null });
    await waitFor(() => sub.got.some((m) => m.topic === 'facegate/gate/events'), 5000, 'event via aedes');
    expect(JSON.parse(sub.got.find((m) => m.topic === 'facegate/gate/events')!.payload)).toEqual(e);
    expect(sub.got.some((m) => m.topic === 'facegate/people/p-ann')).toBe(true);

    // A second broker on the same port is a clear error.
    const err = await startEmbeddedBroker({ host: '127.0.0.1', port: emb.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FacegateError);
    expect((err as Error).message).toMatch(new RegExp(`cannot listen on 127.0.0.1:${emb.port} \\(EADDRINUSE\\)`));
  });

  it('Home Assistant discovery: retained configs, presence "on" on the advertised state topic, face count', async () => {
    const prefix = 't3';
    const sub = await subscriber(broker.url, '#');
    track(sub.client);
    const { bus, pub, ha } = withHomeAssistant(broker.url, { prefix, homeAssistant: { enabled: true, discoveryPrefix: 'ha3', expireAfterSeconds: 20 } }, () => [
      ann,
      { id: 'p-bob', name: 'Bob' },
    ]);
    pub.start();
    ha.start();
    await waitFor(() => pub.stats.connected, 5000, 'connect');
    bus.emit('cameraStatus', status('porch'));
    await waitFor(() => sub.got.filter((m) => m.topic.startsWith('ha3/')).length >= 3, 5000, 'discovery');
    const configs = sub.got.filter((m) => m.topic.startsWith('ha3/'));
    expect(configs.filter((m) => m.topic.startsWith('ha3/binary_sensor/')).length).toBe(2);
    expect(configs.filter((m) => m.topic.startsWith('ha3/sensor/')).length).toBe(1);
    const annCfg = JSON.parse(configs.find((m) => m.topic.includes('p-ann'))!.payload);
    expect(annCfg).toMatchObject({ device_class: 'presence', payload_on: 'on', payload_off: 'off', availability_topic: `${prefix}/available` });
    const faceCfg = JSON.parse(configs.find((m) => m.topic.startsWith('ha3/sensor/'))!.payload);

    bus.emit('recognition', event('porch', ann), { embedding: null });
    await waitFor(() => sub.got.some((m) => m.topic === annCfg.state_topic), 5000, 'presence state');
    expect(sub.got.find((m) => m.topic === annCfg.state_topic)).toMatchObject({ payload: 'on', retain: false });
    await waitFor(() => sub.got.some((m) => m.topic === faceCfg.state_topic), 5000, 'face count');
    expect(sub.got.find((m) => m.topic === faceCfg.state_topic)!.payload).toBe('1');

    // Discovery configs are retained: a newcomer (Home Assistant restarting) sees them.
    const late = await subscriber(broker.url, 'ha3/#');
    track(late.client);
    await waitFor(() => late.got.length >= 3, 3000, 'retained discovery');
    expect(late.got.every((m) => m.retain)).toBe(true);
  });

  it('Home Assistant: a person no longer enrolled loses their entities; the face count falls when a track ends', async () => {
    const prefix = 't4';
    const sub = await subscriber(broker.url, '#');
    track(sub.client);
    let people = [ann, { id: 'p-bob', name: 'Bob' }];
    const { bus, pub, ha } = withHomeAssistant(
      broker.url,
      { prefix, homeAssistant: { enabled: true, discoveryPrefix: 'ha4', expireAfterSeconds: 20 } },
      () => people,
      () => ['gate'],
    );
    pub.start();
    ha.start();
    await waitFor(() => sub.got.filter((m) => m.topic.startsWith('ha4/binary_sensor/')).length >= 2, 5000, 'discovery');
    const bobTopic = sub.got.find((m) => m.topic.startsWith('ha4/binary_sensor/') && m.topic.includes('p-bob'))!.topic;

    people = [ann];
    bus.emit('facebankChanged', { seq: 0, time: new Date().toISOString(), op: 'replace' });
    // An empty retained config is how Home Assistant is told to remove an entity.
    await waitFor(() => sub.got.some((m) => m.topic === bobTopic && m.payload === ''), 5000, "Bob's entity removed");
    expect(sub.got.filter((m) => m.topic.includes('p-ann') && m.topic.startsWith('ha4/') && m.payload === '')).toEqual([]);

    const seen = event('gate', ann);
    bus.emit('recognition', seen, { embedding: null });
    bus.emit('recognition', { ...seen, type: 'end' }, { embedding: null });
    const faces = `${prefix}/gate/faces`;
    await waitFor(() => sub.got.filter((m) => m.topic === faces).length >= 2, 5000, 'two face counts');
    expect(sub.got.filter((m) => m.topic === faces).map((m) => m.payload)).toEqual(['1', '0']);
  });
});

describe.skipIf(!hasMosquitto)('MqttPublisher across broker outages', { timeout: 60_000 }, () => {
  it('a broker restart while publishing QoS 1 events loses none (duplicates allowed)', async () => {
    const broker = new Mosquitto({ persistence: true });
    cleanups.push(() => broker.dispose());
    await broker.start();
    const sub = await subscriber(broker.url, 'r/cam/events', { clientId: 'sub-restart', clean: false });
    track(sub.client);
    const { bus, pub } = publisher(broker.url, { prefix: 'r', qos: 1 });
    const conn: boolean[] = [];
    bus.on('mqttConnection', (c) => conn.push(c.connected));
    pub.start();
    await waitFor(() => pub.stats.connected, 5000, 'connect');

    const N = 300;
    const ids: string[] = [];
    const send = (k: number) => {
      for (let i = 0; i < k; i++) {
        const e = event('cam', null);
        ids.push(e.id);
        bus.emit('recognition', e, { embedding: null });
      }
    };
    send(100);
    const restarting = broker.restart(true); // mid-stream: some events are in flight
    for (let i = 0; i < 10; i++) {
      send(10);
      await new Promise((r) => setTimeout(r, 50));
    }
    await restarting;
    send(N - ids.length);
    const got = () => new Set(sub.got.map((m) => JSON.parse(m.payload).id as string));
    await waitFor(() => ids.every((id) => got().has(id)), 30_000, `all ${N} events at the subscriber`);
    expect(got().size).toBe(N);
    expect(conn).toEqual([true, false, true]); // the publisher did see the outage
    await waitFor(() => pub.stats.queued === 0, 5000, 'empty queue');
    expect(pub.stats.published).toBe(N);
    expect(pub.stats.dropped).toBe(0);
  });

  it('while the broker is down the queue keeps the newest queueLimit events, counts the dropped, then delivers in order', async () => {
    const broker = new Mosquitto({ persistence: true });
    cleanups.push(() => broker.dispose());
    await broker.start();
    const sub = await subscriber(broker.url, 'q/cam/events', { clientId: 'sub-queue', clean: false });
    track(sub.client);
    await broker.stop(true);

    const { bus, pub } = publisher(broker.url, { prefix: 'q', queueLimit: 5 });
    pub.start();
    const sent = Array.from({ length: 8 }, () => event('cam', null));
    for (const e of sent) bus.emit('recognition', e, { embedding: null });
    expect(pub.stats).toMatchObject({ connected: false, queued: 5, dropped: 3, published: 0 });

    await broker.start();
    await waitFor(() => sub.got.length >= 5, 15_000, 'queued events after reconnect');
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.got.map((m) => JSON.parse(m.payload).id)).toEqual(sent.slice(3).map((e) => e.id));
    expect(pub.stats).toMatchObject({ connected: true, queued: 0, dropped: 3, published: 5 });
  });

  it('with a queue file, events queued while the broker is down survive a stop and are delivered, in order, by the next publisher', async () => {
    const broker = new Mosquitto({ persistence: true });
    cleanups.push(() => broker.dispose());
    await broker.start();
    const sub = await subscriber(broker.url, 'j/cam/events', { clientId: 'sub-journal', clean: false });
    track(sub.client);
    await broker.stop(true);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-pubq-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const queueFile = path.join(dir, 'mqtt-queue.jsonl');

    const first = publisher(broker.url, { prefix: 'j' }, { queueFile });
    first.pub.start();
    const sent = Array.from({ length: 12 }, () => event('cam', null));
    for (const e of sent) first.bus.emit('recognition', e, { embedding: null });
    await first.pub.stop();

    await broker.start();
    await waitFor(() => sub.client.connected, 10_000, 'subscriber back');
    const second = publisher(broker.url, { prefix: 'j' }, { queueFile });
    second.pub.start();
    expect(second.pub.stats.replayed).toBe(12);
    await waitFor(() => sub.got.length >= 12, 15_000, 'replayed events at the subscriber');
    await waitFor(() => second.pub.stats.queued === 0, 5000, 'empty queue');
    expect(sub.got.map((m) => JSON.parse(m.payload).id)).toEqual(sent.map((e) => e.id));
    await second.pub.stop();
    expect(readFileSync(queueFile, 'utf8')).toBe('');
  });
});
