/**
 * `npm run bench:sync`: a benchmark, not a test. N simulated appliances (sync only: a Facebank and a FacebankSync
 * each, no cameras, no models), each in its own child process (bench/sync-box.ts), and one real mosquitto.
 * Appliance 0 holds P people x S samples (synthetic embeddings and crops) and publishes them. N-1-J appliances
 * start from a copy of its data folder (a site already in sync: they only check what the broker holds), then J new,
 * empty appliances join at once and catch up from the retained state. Reports the time for the new appliances to
 * converge, the time for one rename to reach all N, the broker's RSS, the boxes' RSS and the bytes of a sealed
 * sample record. Run it niced on a shared machine (`nice -n 10 npm run bench:sync`).
 *
 *   npm run bench:sync -- [--appliances 20] [--joining 1] [--people 1000] [--samples 5] [--json]
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { freePort, waitForPort } from '../util/net.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('appliances', 20);
const P = arg('people', 1000);
const S = arg('samples', 5);
const J = Math.min(arg('joining', 1), N - 1);
const BOX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sync-box.js');

interface Progress {
  people: number;
  samples: number;
  pending: number;
  connects: number;
  catchUps: number;
  watched: string | null;
  rssMb: number;
}
interface Box {
  child: ChildProcess;
  last: Progress | null;
  first: Promise<{ type: string; target?: string }>;
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function spawnBox(index: number, url: string, key: string, dir: string, seed: boolean): Box {
  const child = fork(BOX, [JSON.stringify({ index, url, key, dir: path.join(dir, `box-${index}`), people: P, samples: S, seed })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const box: Box = { child, last: null, first: null as never };
  box.first = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`box-${index} exited (${code})`)));
    child.on('message', (m: { type: string; target?: string } & Progress) => {
      if (m.type === 'progress') box.last = m;
      else resolve(m);
    });
  });
  box.first.catch(() => {});
  return box;
}

async function main(): Promise<void> {
  const bin = spawnSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!bin) throw new Error('mosquitto not found (apt-get install mosquitto)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fg-bench-sync-'));
  const port = await freePort();
  // mosquitto keeps at most max_queued_messages (default 1000) per client and drops the rest, retained ones
  // included: a box catching up needs room for every record (README: "A large site").
  writeFileSync(path.join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nmax_queued_bytes 0\n`);
  const broker = spawn(bin, ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const boxes: Box[] = [];
  process.once('exit', () => {
    broker.kill('SIGTERM');
    for (const b of boxes) b.child.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(1));
  const url = `mqtt://127.0.0.1:${port}`;
  const key = randomBytes(32).toString('hex');
  try {
    await waitForPort(port);
    const seed = spawnBox(0, url, key, dir, true);
    boxes.push(seed);
    const target = (await seed.first).target!;
    let t = Date.now();
    seed.child.send({ type: 'start' });
    await until(() => seed.last !== null && seed.last.catchUps > 0 && seed.last.pending === 0, 600_000, 'the seed to publish');
    const publishMs = Date.now() - t;

    // Retained payload size: read back some sample records.
    const probe = mqtt.connect(url);
    const sizes: number[] = [];
    probe.on('message', (topic, payload) => topic.includes('/sample/') && sizes.push(payload.length));
    await probe.subscribeAsync('bench/facebank/sample/+');
    await until(() => sizes.length >= Math.min(100, P * S), 60_000, 'retained samples');
    await probe.endAsync();

    // The site in sync: copies of the seed's data folder (its sync state included), started and checked against the broker.
    await new Promise((r) => setTimeout(r, 1000)); // the seed's sync state is saved 200 ms after its last acknowledgement
    t = Date.now();
    for (let i = 1; i < N - J; i++) {
      // Without temp files: the seed may be replacing its sync state meanwhile.
      cpSync(path.join(dir, 'box-0'), path.join(dir, `box-${i}`), { recursive: true, filter: (f) => !path.basename(f).startsWith('.') });
      boxes.push(spawnBox(i, url, key, dir, false));
    }
    await Promise.all(boxes.slice(1).map((b) => b.first));
    for (const b of boxes.slice(1)) b.child.send({ type: 'start' });
    await until(() => boxes.every((b) => b.last !== null && b.last.catchUps > 0 && b.last.samples === P * S), 3_600_000, 'the site in sync');
    const siteMs = Date.now() - t;

    const joining: Box[] = [];
    for (let i = N - J; i < N; i++) joining.push(spawnBox(i, url, key, dir, false));
    boxes.push(...joining);
    await Promise.all(joining.map((b) => b.first));
    t = Date.now();
    for (const b of joining) b.child.send({ type: 'start' });
    const converged: number[] = [];
    await Promise.all(
      joining.map(async (b) => {
        await until(() => b.last?.samples === P * S && b.last.people === P, 3_600_000, 'convergence');
        converged.push(Date.now() - t);
      }),
    );
    for (const b of boxes) b.child.send({ type: 'watch', id: target });
    await until(() => boxes.every((b) => b.last?.watched !== null), 30_000, 'the boxes to watch the target');
    t = Date.now();
    seed.child.send({ type: 'rename', id: target, name: 'Renamed In Bench' });
    await until(() => boxes.every((b) => b.last?.watched === 'Renamed In Bench'), 300_000, 'the rename');
    const renameMs = Date.now() - t;
    converged.sort((a, b) => a - b);
    const followers = joining.map((b) => b.last!);
    const result = {
      date: new Date().toISOString(),
      appliances: N,
      people: P,
      samplesPerPerson: S,
      embeddingDim: 512,
      joining: J,
      seedPublishSeconds: publishMs / 1000,
      siteInSyncSeconds: siteMs / 1000,
      convergeSeconds: { first: converged[0]! / 1000, median: converged[converged.length >> 1]! / 1000, last: converged[converged.length - 1]! / 1000 },
      renameToAllMs: renameMs,
      brokerRssMb: Math.round(rssKb(broker.pid!) / 1024),
      boxRssMb: Math.round(Math.max(...followers.map((f) => f.rssMb))),
      connectsPerBox: Math.max(...followers.map((f) => f.connects)),
      sealedSampleBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
    };
    if (process.argv.includes('--json')) console.log(JSON.stringify(result));
    else console.log(result);
  } finally {
    await Promise.all(
      boxes.map(
        (b) =>
          new Promise<void>((resolve) => {
            if (b.child.exitCode !== null || b.child.signalCode !== null) return resolve();
            const kill = setTimeout(() => b.child.kill('SIGKILL'), 10_000);
            b.child.once('exit', () => (clearTimeout(kill), resolve()));
            b.child.send({ type: 'stop' });
          }),
      ),
    );
    broker.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
