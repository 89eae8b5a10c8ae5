/**
 * One simulated appliance of `npm run bench:sync` (a child process, driven over IPC by bench/sync.ts): a Facebank,
 * its owner (Enrolment, which the seed's renames go through) and a FacebankSync over an MqttTransport; no cameras, no models. The seed box first fills its
 * facebank with P people x S samples (synthetic 512-d embeddings, a flat 112x112 JPEG), in frames of 500 people.
 *
 *   parent -> box: {start} | {rename, id, name} | {watch, id} | {stop}
 *   box -> parent: {seeded, target} | {ready} | {renaming, at} | {name, name, at, receivedAt}
 *                  | {progress, people, samples, pending, connects, catchUps}
 * `renaming.at` is the wall clock just before the seed's rename; `name.at` the wall clock when a change that gave
 * the watched person a new name was committed here (same machine, same clock), `receivedAt` when its record last
 * arrived from the broker. Progress is sent when it changes.
 */
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { Enrolment } from '../enrol/service.js';
import { matchSchema, mqttSchema, syncSchema } from '../config/schema.js';
import { Bus } from '../events/bus.js';
import { MqttTransport } from '../mqtt/transport.js';
import { Facebank } from '../store/facebank.js';
import type { RecordOp } from '../store/types.js';
import type { SyncLink } from '../sync/ports.js';
import { FacebankSync } from '../sync/service.js';
import { silentLogger } from '../util/log.js';

interface BoxArgs {
  index: number;
  url: string;
  key: string;
  dir: string;
  people: number;
  samples: number;
  seed: boolean;
}
type Command = { type: 'start' } | { type: 'rename'; id: string; name: string } | { type: 'watch'; id: string } | { type: 'stop' };

const DIM = 512;
const send = (m: object) => process.send?.(m);

async function seed(fb: Facebank, people: number, samples: number): Promise<string> {
  const jpeg = await sharp({ create: { width: 112, height: 112, channels: 3, background: { r: 150, g: 120, b: 100 } } })
    .jpeg({ quality: 95 })
    .toBuffer();
  let first: string | null = null;
  for (let p0 = 0; p0 < people; p0 += 500) {
    const ops: RecordOp[] = [];
    for (let p = p0; p < Math.min(people, p0 + 500); p++) {
      const person = { id: randomUUID(), name: `Person ${p}`, created: new Date().toISOString(), notes: '' };
      first ??= person.id;
      ops.push({ op: 'person', person });
      for (let k = 0; k < samples; k++) {
        const embedding = Float32Array.from({ length: DIM }, () => Math.random() - 0.5);
        ops.push({
          op: 'sample',
          jpeg,
          sample: {
            id: randomUUID(),
            personId: person.id,
            embedding,
            modelId: 'bench-model',
            quality: { size: 112, score: 0.9, blur: 100, yaw: 0, pitch: 0, roll: 0 },
            source: 'cli',
            created: new Date().toISOString(),
            negative: false,
          },
        });
      }
    }
    await fb.applyBatch(ops);
  }
  return first!;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '{}') as BoxArgs;
  const bus = new Bus();
  const fb = new Facebank(a.dir, { bus });
  await fb.open();
  const link = new MqttTransport({
    config: mqttSchema.parse({ prefix: 'bench' }),
    url: a.url,
    clientId: `box-${a.index}`,
    availabilityTopic: `bench/box-${a.index}/available`,
    log: silentLogger(),
  });
  // The facebank's owner, as in the appliance (no face engine: the records carry their embeddings).
  const owner = new Enrolment({
    dataDir: a.dir,
    facebank: fb,
    bus,
    match: matchSchema.parse({}),
    embedder: () => ({ embedderId: 'bench-model', defaultThreshold: 0.4 }),
  });
  await owner.open();
  // The transport as the sync sees it, noting when the watched person's record arrives (before the sync reads it).
  let watched: string | null = null;
  let receivedAt = 0;
  const timed: SyncLink = {
    get connected() {
      return link.connected;
    },
    subscribe: (filter, handler) =>
      link.subscribe(filter, {
        ...handler,
        onMessage: (topic, payload) => {
          if (watched && topic.endsWith(`/person/${watched}`)) receivedAt = Date.now();
          handler.onMessage(topic, payload);
        },
      }),
    publishNow: (topic, payload, opts) => link.publishNow(topic, payload, opts),
    onConnectionChange: (listener) => link.onConnectionChange(listener),
  };
  const s = new FacebankSync({
    config: syncSchema.parse({ enabled: true, applianceId: `box-${a.index}`, key: a.key }),
    link: timed,
    prefix: 'bench',
    dataDir: a.dir,
    facebank: owner,
    bus,
    embedderId: 'bench-model',
    embedAligned: async () => [],
  });
  if (a.seed) send({ type: 'seeded', target: await seed(fb, a.people, a.samples) });
  else send({ type: 'ready' });

  // The watched person's name, reported the moment a committed change gives it a new one.
  let name: string | null = null;
  const reportName = async () => {
    const now = watched ? ((await fb.person(watched))?.name ?? null) : null;
    if (now === name) return;
    name = now;
    send({ type: 'name', name, at: Date.now(), receivedAt });
  };
  // Counts only after a change (a copy of 50,000 samples every tick would load the box being measured).
  let counts = { people: (await fb.people()).length, samples: (await fb.samples()).length };
  let countsStale = false;
  bus.on('facebankChanged', () => {
    countsStale = true;
    void reportName();
  });
  let sent = '';
  const report = setInterval(() => {
    void (async () => {
      // Not once renames are watched: recounting is the bench's work, not the sync's, and would land in the figures.
      if (countsStale && !watched) {
        countsStale = false;
        counts = { people: (await fb.people()).length, samples: (await fb.samples()).length };
      }
      const progress = { type: 'progress', ...counts, pending: s.stats.pending, connects: s.connects, catchUps: s.catchUps };
      const text = JSON.stringify(progress);
      if (text !== sent) send(progress);
      sent = text;
    })();
  }, 200);
  process.on('message', (m: Command) => {
    void (async () => {
      if (m.type === 'start') {
        link.start();
        await s.start();
      } else if (m.type === 'watch') {
        watched = m.id;
        await reportName();
      } else if (m.type === 'rename') {
        send({ type: 'renaming', at: Date.now() });
        await owner.renamePerson(m.id, m.name);
      } else if (m.type === 'stop') {
        clearInterval(report);
        await s.stop();
        await link.stop();
        await fb.close();
        process.exit(0);
      }
    })().catch((e: unknown) => {
      console.error(`box-${a.index}: ${(e as Error).message}`);
      process.exit(1);
    });
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
