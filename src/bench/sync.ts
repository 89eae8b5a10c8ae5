/**
 * `npm run bench:sync`: a benchmark, not a test. N simulated appliances (sync only: a Facebank and a FacebankSync
 * each, no cameras, no models) in this process, one real mosquitto. Appliance 0 holds P people x S samples
 * (synthetic embeddings and crops) and publishes them; the others start and catch up from the retained state.
 * Reports the time for every appliance to converge, the time for one rename to reach all, the broker's RSS and the
 * bytes of a sealed sample record.
 *
 *   npm run bench:sync -- [--appliances 20] [--people 1000] [--samples 5] [--json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { mqttSchema, syncSchema } from '../config/schema.js';
import { Facebank, type RemoteOp } from '../store/facebank.js';
import { FacebankSync } from '../sync/service.js';
import { freePort, waitForPort } from '../util/net.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('appliances', 20);
const P = arg('people', 1000);
const S = arg('samples', 5);
const DIM = 512;

async function until(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

async function main(): Promise<void> {
  const bin = spawnSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!bin) throw new Error('mosquitto not found (apt-get install mosquitto)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fg-bench-sync-'));
  const port = await freePort();
  // mosquitto keeps at most max_queued_messages (default 1000) per client and drops the rest, retained ones
  // included: a box catching up needs room for every record (README: "A large site").
  writeFileSync(path.join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_queued_bytes 0\n`);
  const broker = spawn(bin, ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  process.once('exit', () => broker.kill('SIGTERM'));
  const url = `mqtt://127.0.0.1:${port}`;
  const key = randomBytes(32).toString('hex');
  const nodes: { fb: Facebank; sync: FacebankSync }[] = [];
  try {
    await waitForPort(port);
    // A face-sized crop: a smooth 112x112 image (JPEG q95), and random unit embeddings.
    const jpeg = await sharp({ create: { width: 112, height: 112, channels: 3, background: { r: 150, g: 120, b: 100 } } }).jpeg({ quality: 95 }).toBuffer();
    const make = async (i: number) => {
      const d = path.join(dir, `box-${i}`);
      let sync: FacebankSync | null = null;
      const fb = new Facebank(d, { onChange: (c) => sync?.onChange(c) });
      await fb.open();
      sync = new FacebankSync({ config: syncSchema.parse({ enabled: true, applianceId: `box-${i}`, key }), mqtt: mqttSchema.parse({ prefix: 'bench', clientId: `box-${i}` }), url, dataDir: d, facebank: fb, embedderId: 'bench-model', embedAligned: async () => [] });
      return { fb, sync };
    };
    const seed = await make(0);
    const ops: RemoteOp[] = [];
    for (let p = 0; p < P; p++) {
      const person = { id: randomUUID(), name: `Person ${p}`, created: new Date().toISOString(), notes: '' };
      ops.push({ op: 'person', person });
      for (let s = 0; s < S; s++) {
        const embedding = Array.from({ length: DIM }, () => Math.random() - 0.5);
        ops.push({ op: 'sample', jpeg, sample: { id: randomUUID(), personId: person.id, embedding, modelId: 'bench-model', quality: { size: 112, score: 0.9, blur: 100, yaw: 0, pitch: 0, roll: 0 }, source: 'cli', created: new Date().toISOString(), negative: false } });
      }
    }
    await seed.fb.applyRemote(ops);
    nodes.push(seed);
    let t = Date.now();
    await seed.sync.start();
    await until(async () => seed.sync.stats.pending === 0, 600_000, 'the seed to publish');
    const publishMs = Date.now() - t;

    // Retained payload size: read back one sample record.
    const probe = mqtt.connect(url);
    const sizes: number[] = [];
    probe.on('message', (topic, payload) => topic.includes('/sample/') && sizes.push(payload.length));
    await probe.subscribeAsync('bench/facebank/sample/+');
    await until(async () => sizes.length >= Math.min(100, P * S), 60_000, 'retained samples');
    await probe.endAsync();

    t = Date.now();
    for (let i = 1; i < N; i++) nodes.push(await make(i));
    await Promise.all(nodes.slice(1).map((n) => n.sync.start()));
    const converged: number[] = [];
    await Promise.all(
      nodes.slice(1).map(async (n) => {
        await until(async () => (await n.fb.samples()).length === P * S, 1_800_000, 'convergence');
        converged.push(Date.now() - t);
      }),
    );
    const target = (await seed.fb.people())[0]!;
    t = Date.now();
    await seed.fb.renamePerson(target.id, 'Renamed In Bench');
    await until(async () => (await Promise.all(nodes.map(async (n) => (await n.fb.person(target.id))?.name))).every((x) => x === 'Renamed In Bench'), 120_000, 'the rename');
    const renameMs = Date.now() - t;
    converged.sort((a, b) => a - b);
    const result = {
      appliances: N,
      people: P,
      samplesPerPerson: S,
      embeddingDim: DIM,
      seedPublishSeconds: publishMs / 1000,
      convergeSeconds: { first: converged[0]! / 1000, median: converged[converged.length >> 1]! / 1000, last: converged[converged.length - 1]! / 1000 },
      renameToAllMs: renameMs,
      brokerRssMb: rssKb(broker.pid!) / 1024,
      sealedSampleBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
    };
    if (process.argv.includes('--json')) console.log(JSON.stringify(result));
    else console.log(result);
  } finally {
    for (const n of nodes) {
      await n.sync.stop();
      await n.fb.close();
    }
    broker.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
