/**
 * `npm run bench:sync`: a benchmark, not a test. N simulated appliances (sync only: a Facebank, its owner and a
 * FacebankSync each, no cameras, no models), each in its own child process (bench/sync-box.ts), and one real
 * mosquitto. Appliance 0 (the seed) holds P people x S samples (synthetic embeddings and crops) and publishes them.
 * N-1-J appliances start from copies of its data folder (a site already in sync: they only check what the broker
 * holds; crops are hard-linked, the rest copied), `--wave` at a time; then J new, empty appliances join at once and
 * catch up from the retained state.
 *
 * The rename figure: the seed renames one person R times through its owner; each box reports the wall-clock moment
 * the new name was committed in its facebank (same machine, same clock), so "rename to all" is the last box's moment
 * minus the seed's. Baseline in the same run: the same R renames while only the seed and one other box run (the
 * same facebank, one receiver instead of N-1). Beside each: the boxes' RSS and CPU (from /proc, 10 ms ticks) over the
 * renames, against their CPU over an idle window of the same length, the broker's, and the load average.
 * Also: the time for the seed to publish, for the site to be in sync, for the new appliances to converge, and the
 * bytes of a sealed sample record. Run it niced on a shared machine (`nice -n 10 npm run bench:sync`).
 *
 *   npm run bench:sync -- [--appliances 20] [--joining 1] [--people 1000] [--samples 5] [--renames 5] [--wave 4] [--json]
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
const J = Math.min(arg('joining', 1), N - 2);
const R = arg('renames', 5);
const WAVE = arg('wave', 4);
const BOX = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sync-box.js');
const json = process.argv.includes('--json');
const say = (s: string) => {
  if (!json) console.log(`${new Date().toISOString().slice(11, 19)} ${s} (load ${os.loadavg()[0]!.toFixed(1)})`);
};
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;

interface Progress {
  people: number;
  samples: number;
  pending: number;
  connects: number;
  catchUps: number;
}
interface Box {
  index: number;
  child: ChildProcess;
  progress: Progress | null;
  /** The watched person's name here, and the wall clock when it was committed. */
  name: { name: string | null; at: number; receivedAt: number } | null;
  renaming: ((at: number) => void) | null;
  first: Promise<{ type: string; target?: string }>;
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100);
/** CPU time (user + system) of a process so far, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}
const statusKb = (pid: number, field: string): number =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const rssMb = (pid: number) => round(statusKb(pid, 'VmRSS') / 1024);

function spawnBox(index: number, url: string, key: string, dir: string, seed: boolean): Box {
  const child = fork(BOX, [JSON.stringify({ index, url, key, dir: path.join(dir, `box-${index}`), people: P, samples: S, seed })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const box: Box = { index, child, progress: null, name: null, renaming: null, first: null as never };
  box.first = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`box-${index} exited (${code})`)));
    child.on('message', (m: { type: string; target?: string; name?: string | null; at?: number; receivedAt?: number } & Progress) => {
      if (m.type === 'progress') box.progress = m;
      else if (m.type === 'name') box.name = { name: m.name ?? null, at: m.at!, receivedAt: m.receivedAt ?? 0 };
      else if (m.type === 'renaming') box.renaming?.(m.at!);
      else resolve(m);
    });
  });
  box.first.catch(() => {});
  return box;
}

/** A copy of the seed's data folder, its crops hard-linked (a crop file is never changed in place, only replaced or removed). */
function copyDataDir(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    // Without temp files: the seed may be replacing its sync state meanwhile.
    if (e.name.startsWith('.')) continue;
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) {
      mkdirSync(dst);
      for (const f of readdirSync(src)) if (!f.startsWith('.')) (e.name === 'samples' ? linkSync : copyFileSync)(path.join(src, f), path.join(dst, f));
    } else copyFileSync(src, dst);
  }
}

const caughtUp = (b: Box) => b.progress !== null && b.progress.catchUps > 0 && b.progress.people === P && b.progress.samples === P * S;

interface Usage {
  seconds: number;
  boxCpuMs: number[];
  brokerCpuMs: number;
}
/** CPU used by each box and the broker while fn runs. */
async function usage(boxes: Box[], broker: ChildProcess, fn: () => Promise<void>): Promise<Usage> {
  const before = boxes.map((b) => cpuMs(b.child.pid!));
  const brokerBefore = cpuMs(broker.pid!);
  const t = Date.now();
  await fn();
  return {
    seconds: (Date.now() - t) / 1000,
    boxCpuMs: boxes.map((b, i) => cpuMs(b.child.pid!) - before[i]!),
    brokerCpuMs: cpuMs(broker.pid!) - brokerBefore,
  };
}

/**
 * R renames on the seed, each awaited on every box (and 1 s to settle: the sync state is journalled 200 ms after a
 * change), then an idle window of the same length. Times are from the seed's rename to each box's commit.
 */
async function renames(seed: Box, boxes: Box[], target: string, label: string, broker: ChildProcess) {
  const toAll: number[] = [];
  const firstBox: number[] = [];
  // Per box and rename: from the seed's rename until the record reached the box, and from there until it was committed.
  const delivered: number[] = [];
  const applied: number[] = [];
  const busy = await usage(boxes, broker, async () => {
    for (let r = 1; r <= R; r++) {
      const name = `${label} ${r}`;
      const started = new Promise<number>((resolve) => (seed.renaming = resolve));
      seed.child.send({ type: 'rename', id: target, name });
      const t0 = await started;
      await until(() => boxes.every((b) => b.name?.name === name), 600_000, `rename ${name}`);
      const others = boxes.filter((b) => b !== seed);
      const arrivals = others.map((b) => b.name!.at - t0);
      toAll.push(Math.max(...arrivals));
      firstBox.push(Math.min(...arrivals));
      for (const b of others) {
        delivered.push(b.name!.receivedAt - t0);
        applied.push(b.name!.at - b.name!.receivedAt);
      }
      await sleep(1000);
    }
  });
  const idle = await usage(boxes, broker, () => sleep(busy.seconds * 1000));
  const perRename = (ms: number) => round(ms / R, 1);
  const idlePerRename = (ms: number) => round((ms * busy.seconds) / idle.seconds / R, 1);
  const others = boxes.filter((b) => b !== seed);
  const cpu = (u: Usage) => u.boxCpuMs.filter((_, i) => boxes[i] !== seed);
  return {
    boxes: boxes.length,
    renameToAllMs: { median: median(toAll), min: Math.min(...toAll), max: Math.max(...toAll), each: toAll },
    firstBoxMs: median(firstBox),
    deliveredMs: { median: median(delivered), max: Math.max(...delivered) },
    appliedMs: { median: median(applied), max: Math.max(...applied) },
    // Per rename, over its window (the rename, the wait for the last box, 1 s to settle); idle: the same length without a rename.
    receiverCpuMsPerRename: { median: perRename(median(cpu(busy))), max: perRename(Math.max(...cpu(busy))), idleMedian: idlePerRename(median(cpu(idle))) },
    seedCpuMsPerRename: { busy: perRename(busy.boxCpuMs[boxes.indexOf(seed)]!), idle: idlePerRename(idle.boxCpuMs[boxes.indexOf(seed)]!) },
    brokerCpuMsPerRename: { busy: perRename(busy.brokerCpuMs), idle: idlePerRename(idle.brokerCpuMs) },
    receiverRssMb: { median: median(others.map((b) => rssMb(b.child.pid!))), max: Math.max(...others.map((b) => rssMb(b.child.pid!))) },
    receiverPeakRssMb: Math.max(...others.map((b) => round(statusKb(b.child.pid!, 'VmHWM') / 1024))),
    seedRssMb: rssMb(seed.child.pid!),
    loadAverage: round(os.loadavg()[0]!, 1),
  };
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
  const loadAtStart = round(os.loadavg()[0]!, 1);
  try {
    await waitForPort(port);
    let t = Date.now();
    const seed = spawnBox(0, url, key, dir, true);
    boxes.push(seed);
    const target = (await seed.first).target!;
    const seedBuildMs = Date.now() - t;
    say(`seed built ${P} x ${S} in ${seedBuildMs} ms`);
    t = Date.now();
    seed.child.send({ type: 'start' });
    const tell = setInterval(() => say(`seed: ${JSON.stringify(seed.progress)}`), 15_000);
    await until(() => seed.progress !== null && seed.progress.catchUps > 0 && seed.progress.pending === 0, 3_600_000, 'the seed to publish');
    clearInterval(tell);
    const publishMs = Date.now() - t;
    say(`seed published ${P * (S + 1)} records in ${publishMs} ms`);

    // Retained payload size: read back some sample records.
    const probe = mqtt.connect(url);
    const sizes: number[] = [];
    probe.on('message', (topic, payload) => topic.includes('/sample/') && sizes.length < 100 && sizes.push(payload.length));
    await probe.subscribeAsync('bench/facebank/sample/+');
    await until(() => sizes.length >= Math.min(100, P * S), 600_000, 'retained samples');
    await probe.endAsync();

    // The site in sync: copies of the seed's data folder (its sync state included), started and checked against the broker.
    await sleep(1000); // the seed's sync state is journalled 200 ms after its last acknowledgement
    t = Date.now();
    for (let i = 1; i < N - J; i++) copyDataDir(path.join(dir, 'box-0'), path.join(dir, `box-${i}`));
    const copyMs = Date.now() - t;
    say(`copied the seed's data folder ${N - J - 1} times in ${copyMs} ms`);

    const startWave = async (wave: Box[]) => {
      boxes.push(...wave);
      await Promise.all(wave.map((b) => b.first));
      for (const b of wave) b.child.send({ type: 'start' });
      await until(() => wave.every(caughtUp), 3_600_000, 'the site in sync');
    };
    t = Date.now();
    await startWave([spawnBox(1, url, key, dir, false)]);
    say(`box-1 in sync in ${Date.now() - t} ms`);
    for (const b of boxes) b.child.send({ type: 'watch', id: target });
    await until(() => boxes.every((b) => b.name?.name), 60_000, 'the boxes to watch the target');
    const baseline = await renames(seed, boxes, target, 'Baseline Rename', broker);
    say(`baseline (2 boxes): rename to box-1 ${baseline.renameToAllMs.median} ms median`);

    for (let i = 2; i < N - J; i += WAVE) {
      const wave: Box[] = [];
      for (let k = i; k < Math.min(N - J, i + WAVE); k++) wave.push(spawnBox(k, url, key, dir, false));
      await startWave(wave);
      say(`boxes ${i}-${i + wave.length - 1} in sync`);
    }
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
        await until(() => caughtUp(b), 3_600_000, 'convergence');
        converged.push(Date.now() - t);
      }),
    );
    converged.sort((a, b) => a - b);
    say(`${J} new box(es) converged in ${converged.join(', ')} ms`);
    const joinConnects = Math.max(...joining.map((b) => b.progress!.connects));

    for (const b of boxes) b.child.send({ type: 'watch', id: target });
    await until(() => boxes.every((b) => b.name?.name), 60_000, 'the boxes to watch the target');
    await sleep(2000); // the joining boxes' sync state settles
    const site = await renames(seed, boxes, target, 'Site Rename', broker);
    say(`site (${N} boxes): rename to all ${site.renameToAllMs.median} ms median`);

    const result = {
      date: new Date().toISOString(),
      appliances: N,
      people: P,
      samplesPerPerson: S,
      embeddingDim: 512,
      joining: J,
      renames: R,
      loadAverage: { start: loadAtStart, end: round(os.loadavg()[0]!, 1) },
      seedBuildSeconds: seedBuildMs / 1000,
      seedPublishSeconds: publishMs / 1000,
      copySeconds: copyMs / 1000,
      siteInSyncSeconds: siteMs / 1000,
      convergeSeconds: { first: converged[0]! / 1000, median: converged[converged.length >> 1]! / 1000, last: converged[converged.length - 1]! / 1000 },
      joiningConnects: joinConnects,
      brokerRssMb: rssMb(broker.pid!),
      sealedSampleBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
      baseline,
      site,
      siteOverBaseline: round(site.renameToAllMs.median / baseline.renameToAllMs.median, 2),
    };
    console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
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
