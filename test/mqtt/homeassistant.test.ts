/**
 * Home Assistant as its MQTT integration reads facegate (issue 25 item 2): a stand-in written from Home Assistant's
 * own code (./home-assistant-sim.ts names the files and the release) follows a person entering, staying, moving
 * camera and leaving, through the appliance's real MQTT and Home Assistant units and a real mosquitto. The stay is
 * four times `expireAfterSeconds` (3 s here instead of the default 30, so the test takes seconds instead of the
 * two minutes of the scenario): presence must stay "on" and available although no event arrives meanwhile.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { Slot } from '../../src/app/unit.js';
import { homeAssistantUnit } from '../../src/app/units/homeassistant.js';
import type { Identity } from '../../src/app/units/identity.js';
import { mqttUnit } from '../../src/app/units/mqtt.js';
import { mqttSchema } from '../../src/config/schema.js';
import { Bus } from '../../src/events/bus.js';
import type { PersonRef, RecognitionEvent } from '../../src/events/types.js';
import type { Camera } from '../../src/ingest/camera.js';
import { decodeImage } from '../../src/ingest/still.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { level, topics } from '../../src/mqtt/topics.js';
import type { EmbeddedBroker } from '../../src/mqtt/broker.js';
import type { MqttPublisher } from '../../src/mqtt/publisher.js';
import { Facebank } from '../../src/store/facebank.js';
import { Snapshots } from '../../src/store/snapshots.js';
import { silentLogger } from '../../src/util/log.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { Mosquitto, hasMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../ingest/util.js';
import { HomeAssistantSim, validateConfig, type SimEntity } from './home-assistant-sim.js';

const BOX = 'hall-box';
const EXPIRE_S = 3;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The retained payload of a topic now ('' when there is none). */
async function retainedPayload(url: string, topic: string): Promise<string> {
  const c = await mqtt.connectAsync(url);
  try {
    const got = new Promise<string>((resolve) => c.on('message', (t, p) => t === topic && resolve(p.toString())));
    await c.subscribeAsync(topic, { qos: 1 });
    return await Promise.race([got, new Promise<string>((r) => setTimeout(() => r(''), 500))]);
  } finally {
    await c.endAsync(true);
  }
}

let n = 0;
function recognition(
  type: RecognitionEvent['type'],
  camera: string,
  track: string,
  person: PersonRef | null,
  snapshot: string | null = null,
): RecognitionEvent {
  const now = new Date().toISOString();
  return {
    type,
    id: randomUUID(),
    camera,
    track,
    person,
    similarity: person ? 0.7 : 0.2,
    confidence: 0.9,
    box: [0, 0, 10, 10],
    quality: { size: 100, score: 0.99, blur: 100, yaw: 0, pitch: 0, roll: 0 },
    frameTime: now,
    publishTime: now,
    snapshot,
    ...(type === 'end' ? { duration: ++n } : {}),
  };
}

describe.skipIf(!hasMosquitto || !hasTestData)('Home Assistant reads facegate (a stand-in written from its MQTT code)', { timeout: 90_000 }, () => {
  const broker = new Mosquitto();
  beforeAll(() => broker.start());
  afterAll(() => broker.dispose());

  it('the validator refuses what Home Assistant refuses', () => {
    const base = { state_topic: 'x/y', unique_id: 'u', availability_topic: 'x/a' };
    expect(validateConfig('binary_sensor', { ...base, expire_after: 30, default_entity_id: 'binary_sensor.ann_at_door' })).toEqual([]);
    expect(validateConfig('binary_sensor', { ...base, object_id: 'ann' })).toContain('object_id is no longer accepted: use default_entity_id');
    expect(validateConfig('binary_sensor', { ...base, default_entity_id: 'sensor.ann' }).join()).toMatch(/not in the binary_sensor domain/);
    expect(validateConfig('binary_sensor', { ...base, expireAfter: 30 })).toEqual(['unknown key expireAfter']);
    expect(validateConfig('event', base).join()).toMatch(/event_types/);
    expect(validateConfig('image', { unique_id: 'u', image_topic: 'a', url_topic: 'b' }).join()).toMatch(/exactly one/);
    expect(validateConfig('sensor', { ...base, device: { name: 'no ids' } }).join()).toMatch(/identifiers or connections/);
  });

  it('discovers one device, follows a person in, staying, across cameras and out, and reads a stopped box as unavailable', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-ha-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const facebank = new Facebank(dir, { role: 'run' });
    await facebank.open();
    cleanups.push(() => facebank.close());
    const ann = await facebank.createPerson('Ann');
    const bob = await facebank.createPerson('Bob');
    const snapshots = new Snapshots(dir);
    const snapshot = await snapshots.save(await decodeImage(dataPath('identity', 'bbt', 'bbt1.jpg')));
    const snapshotBytes = await readFile((await snapshots.path(snapshot))!);

    // Left on the broker from before: a person removed and a camera disabled while facegate was stopped, and
    // another box's entity, which is not ours to remove.
    const seed = await mqtt.connectAsync(broker.url);
    const stale = ['homeassistant/binary_sensor/hall-box/door_p-removed/config', 'homeassistant/sensor/hall-box/attic_faces/config'];
    const foreign = 'homeassistant/sensor/other-box/door_faces/config';
    // And one from the layout before per-appliance ids (node = the old default client id, facegate-<hostname>).
    const legacy = `homeassistant/binary_sensor/${level(`facegate-${os.hostname()}`)}_door_p-old/config`;
    for (const t of [...stale, foreign, legacy])
      await seed.publishAsync(t, JSON.stringify({ name: 'old', state_topic: 'old/x', unique_id: t.replace(/\W/g, '_') }), { qos: 1, retain: true });
    await seed.endAsync();

    const ha = new HomeAssistantSim(broker.url);
    cleanups.push(() => ha.stop());
    await ha.start();
    await waitFor(() => ha.entities.size === (legacy.includes('.') ? 3 : 4), 5000, 'the old entities in Home Assistant');

    // The appliance's own MQTT and Home Assistant units, as startAppliance builds them.
    const bus = new Bus();
    const mqttConfig = mqttSchema.parse({
      url: broker.url,
      prefix: 'fg',
      homeAssistant: { enabled: true, expireAfterSeconds: EXPIRE_S },
    });
    const identity = new Slot<Identity>('appliance identity');
    identity.set({ applianceId: BOX });
    const publisherSlot = new Slot<MqttPublisher>('MQTT transport');
    const facebankSlot = new Slot<Facebank>('facebank');
    facebankSlot.set(facebank);
    const cameras = new Slot<Camera[]>('cameras');
    const mqttU = mqttUnit(
      { mqtt: mqttConfig, dataDir: dir },
      { bus, log: silentLogger(), metrics: new Metrics({ processMetrics: false }), broker: new Slot<EmbeddedBroker>('broker'), cameras, identity },
      publisherSlot,
    );
    const haU = homeAssistantUnit(
      {
        mqtt: mqttConfig,
        cameras: [
          { name: 'door', enabled: true },
          { name: 'yard', enabled: true },
          { name: 'attic', enabled: false },
        ],
      },
      { bus, facebank: facebankSlot, publisher: publisherSlot, cameras, snapshots },
    );
    await mqttU.start();
    cleanups.push(() => mqttU.stop());
    await haU.start();
    cleanups.push(() => haU.stop());

    // One device; per camera a face count, a recognition event and a latest-face image; per camera × person a
    // presence sensor. The stale configs of this box are gone, the other box's entity stays.
    const ours = () => [...ha.entities.values()].filter((e) => e.discoveryId.includes(` ${BOX} `));
    await waitFor(() => ours().length === 10 && stale.every((t) => ![...ha.entities.keys()].some((k) => t.includes(k.split(' ')[2]!))), 10_000, 'discovery');
    expect(ha.warnings).toEqual([]);
    expect(ha.entities.has('sensor other-box door_faces')).toBe(true);
    expect([...ha.entities.values()].filter((e) => !e.discoveryId.includes(` ${BOX} `)).map((e) => e.discoveryId)).toEqual(['sensor other-box door_faces']);
    expect(await retainedPayload(broker.url, legacy)).toBe('');
    expect(
      ours()
        .map((e) => e.discoveryId)
        .sort(),
    ).toEqual(
      [
        ...['door', 'yard'].flatMap((c) => [`sensor ${BOX} ${c}_faces`, `event ${BOX} ${c}_recognitions`, `image ${BOX} ${c}_face`]),
        ...['door', 'yard'].flatMap((c) => [ann, bob].map((p) => `binary_sensor ${BOX} ${c}_${p.id}`)),
      ].sort(),
    );
    expect(new Set(ours().map((e) => JSON.stringify((e.config as { device: unknown }).device))).size).toBe(1);
    expect(ours().every((e) => String(e.config.unique_id).startsWith(`facegate_${BOX}_`))).toBe(true);
    const presence = (camera: string, p: PersonRef): SimEntity => ha.entities.get(`binary_sensor ${BOX} ${camera}_${p.id}`)!;
    const sensor = (camera: string) => ha.entities.get(`sensor ${BOX} ${camera}_faces`)!;
    const events = (camera: string) => ha.entities.get(`event ${BOX} ${camera}_recognitions`)!;
    const image = (camera: string) => ha.entities.get(`image ${BOX} ${camera}_face`)!;
    expect(presence('door', ann).config.default_entity_id).toBe('binary_sensor.ann_at_door');
    // Before anyone is seen, every state is known (off, 0) and available: nothing reads "unknown".
    await waitFor(
      () =>
        ours()
          .filter((e) => e.component !== 'event' && e.component !== 'image')
          .every((e) => e.state !== null && ha.available(e)),
      5000,
      'known states',
    );
    expect(presence('door', ann).state).toBe(false);
    expect(sensor('door').state).toBe('0');

    // Ann enters at the door: present, an event "known" naming her, her face as the camera's latest image.
    bus.emit('recognition', recognition('new', 'door', 'door-1', ann, snapshot), { embedding: null });
    await waitFor(() => presence('door', ann).state === true && events('door').events.length === 1 && image('door').image !== null, 5000, 'Ann at the door');
    expect(events('door').events[0]).toMatchObject({ type: 'known', attributes: { person: 'Ann', person_id: ann.id, track: 'door-1' } });
    expect(image('door').image!.equals(snapshotBytes)).toBe(true);
    expect(presence('door', bob).state).toBe(false);

    // A second track of hers there; the first one ends: she is still in view, so still present.
    bus.emit('recognition', recognition('new', 'door', 'door-2', ann), { embedding: null });
    await waitFor(() => sensor('door').state === '2', 5000, 'two faces');
    bus.emit('recognition', recognition('end', 'door', 'door-1', ann), { embedding: null });
    await waitFor(() => sensor('door').state === '1', 5000, 'one face');
    expect(presence('door', ann).state).toBe(true);

    // She stays, with a steady match and no event, four times longer than expire_after: on and available throughout.
    const until = Date.now() + 4 * EXPIRE_S * 1000;
    while (Date.now() < until) {
      expect(presence('door', ann).state).toBe(true);
      expect(ha.available(presence('door', ann))).toBe(true);
      expect(ha.available(presence('yard', ann))).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
    }

    // The track is re-decided to Bob: Ann is no longer in view there, Bob is; an event names Bob.
    bus.emit('recognition', recognition('update', 'door', 'door-2', bob), { embedding: null });
    await waitFor(() => presence('door', ann).state === false && presence('door', bob).state === true, 5000, 'the track re-decided');
    expect(events('door').events.at(-1)).toMatchObject({ type: 'known', attributes: { person: 'Bob' } });

    // Ann moves to the yard; the door's track ends.
    bus.emit('recognition', recognition('new', 'yard', 'yard-1', ann), { embedding: null });
    bus.emit('recognition', recognition('end', 'door', 'door-2', bob), { embedding: null });
    await waitFor(() => presence('yard', ann).state === true && presence('door', bob).state === false && sensor('door').state === '0', 5000, 'Ann in the yard');
    expect(presence('door', ann).state).toBe(false);

    // She leaves; an unknown face comes by.
    bus.emit('recognition', recognition('end', 'yard', 'yard-1', ann), { embedding: null });
    bus.emit('recognition', recognition('new', 'yard', 'yard-2', null), { embedding: null });
    await waitFor(() => presence('yard', ann).state === false && events('yard').events.some((e) => e.type === 'unknown'), 5000, 'Ann gone, a stranger');
    expect(events('yard').events.map((e) => e.type)).toEqual(['known', 'unknown']);
    expect(ha.warnings).toEqual([]);

    // Home Assistant restarts: from the retained configs and states (and its birth message) everything is known
    // again at once; no face image was retained on the broker.
    await ha.stop();
    const again = new HomeAssistantSim(broker.url);
    cleanups.push(() => again.stop());
    await again.start();
    const ours2 = () => [...again.entities.values()].filter((e) => e.discoveryId.includes(` ${BOX} `));
    await waitFor(
      () => ours2().length === 10 && ours2().every((e) => e.component === 'event' || e.component === 'image' || (e.state !== null && again.available(e))),
      5000,
      'states after the restart',
    );
    expect(again.entities.get(`binary_sensor ${BOX} yard_${ann.id}`)!.state).toBe(false);
    expect(again.entities.get(`sensor ${BOX} yard_faces`)!.state).toBe('1');
    expect(again.entities.get(`image ${BOX} door_face`)!.image).toBeNull();

    // A camera that goes offline ends no track by itself: whoever it had in view is taken as gone.
    bus.emit('recognition', recognition('new', 'yard', 'yard-3', ann), { embedding: null });
    const annYard = () => again.entities.get(`binary_sensor ${BOX} yard_${ann.id}`)!;
    await waitFor(() => annYard().state === true, 5000, 'Ann back in the yard');
    bus.emit('cameraStatus', { camera: 'yard', state: 'offline', fps: 0, lastFrameTime: null, restarts: 1, framesDropped: 0, lastError: 'gone' });
    await waitFor(() => annYard().state === false && again.entities.get(`sensor ${BOX} yard_faces`)!.state === '0', 5000, 'the yard empty');

    // Bob is deleted: his entities go.
    await facebank.deletePerson(bob.id);
    bus.emit('facebankChanged', { seq: 0, time: new Date().toISOString(), op: 'replace' });
    await waitFor(() => ours2().length === 8 && !ours2().some((e) => e.discoveryId.includes(bob.id)), 5000, "Bob's entities removed");

    // The yard camera is removed from the page: its entities go, and so does its retained status (no will left
    // to say "offline" for it later).
    const yardStatus = topics.cameraStatus('fg', BOX, 'yard');
    expect(await retainedPayload(broker.url, yardStatus)).not.toBe('');
    cameras.set([
      { name: 'door', status: { camera: 'door', state: 'online', fps: 5, lastFrameTime: null, restarts: 0, framesDropped: 0, lastError: null } },
    ] as unknown as Camera[]);
    bus.emit('cameraRemoved', { camera: 'yard' });
    await waitFor(() => ours2().length === 4 && !ours2().some((e) => e.discoveryId.includes(' yard_')), 5000, "the yard's entities removed");
    const clearBy = Date.now() + 5000;
    while ((await retainedPayload(broker.url, yardStatus)) !== '') if (Date.now() > clearBy) throw new Error("the yard's retained status was not cleared");

    // The box stops sending (its Home Assistant side stopped, the connection still up): after expire_after the
    // presence reads unavailable, not "off".
    await haU.stop();
    await waitFor(() => !again.available(again.entities.get(`binary_sensor ${BOX} door_${ann.id}`)!), (EXPIRE_S + 3) * 1000, 'expired');
    // Then the connection goes: "offline" on the availability topic makes every entity unavailable.
    await mqttU.stop();
    await waitFor(() => ours2().every((e) => !again.available(e)), 5000, 'all unavailable');
    expect(again.warnings).toEqual([]);
  });
});
