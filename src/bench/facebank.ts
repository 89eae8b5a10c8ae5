/**
 * `npm run bench:facebank`: a benchmark, not a test. Builds a facebank of N people x K samples (random unit
 * embeddings of the default embedder's size and model id, one real face crop per sample) in D and leaves it there,
 * then measures real `facegate run` processes (no cameras, embedded broker, web on): start time, idle RSS (10 s
 * after start, and settled a minute later), a rename and an enrolment through the local API socket (service time as
 * the client sees it, bytes written from /proc/<pid>/io) and peak RSS (VmHWM); and matching one face against the N x K samples (one row each, and as the
 * live matcher does it, with each person's centroid row too).
 * Baselines measured in the same run: the same figures with a facebank of 1 person (what the appliance costs
 * without the store), and with --old <dist/cli.js of an older build> the same facebank as one facebank.json run by
 * that build, plus the one-time import of that facebank.json by this build.
 *
 *   npm run bench:facebank -- --people 10000 --samples 5 [--data-dir D] [--old /path/to/old/dist/cli.js] [--json]
 *
 * Needs `npm run build`, `engines/` (npm run setup) and a face photo (the shared data, or --photo <file>).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { stringify } from 'yaml';
import { Matcher, matcherOptions, type MatcherOptions } from '../match/matcher.js';
import { Facebank, readFacebankFiles } from '../store/facebank.js';
import { compactedFrames, JOURNAL_FILE } from '../store/facebank-journal.js';
import type { Person, Sample } from '../store/types.js';
import { killAndWait } from '../util/child.js';
import { freePort } from '../util/net.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'dist', 'cli.js');

/** The unit's `Environment=MALLOC_*=…` lines: the appliance runs with the allocator settings it has in service. */
function mallocEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  const unit = path.join(repoRoot, 'systemd', 'facegate.service');
  if (existsSync(unit)) for (const m of readFileSync(unit, 'utf8').matchAll(/^Environment=(MALLOC_\w+)=(\S+)$/gm)) out[m[1]!] = m[2]!;
  return out;
}

const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const N = Number(argOf('people') ?? 10_000);
const K = Number(argOf('samples') ?? 5);
const json = process.argv.includes('--json');
const oldCli = argOf('old');
const dataRoot = process.env.FACEGATE_TEST_DATA ?? path.resolve(repoRoot, '../shared/data');
const photo = argOf('photo') ?? path.join(dataRoot, 'identity', 'bbt', 'amy', 'amy1.png');
const say = (s: string) => {
  if (!json) process.stdout.write(s + '\n');
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

/** Model id and size of the default embedder, from `facegate embed` on the photo. */
function embedderOf(): { id: string; dim: number } {
  const r = spawnSync(process.execPath, [cli, 'embed', photo, '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`facegate embed ${photo} failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { embedderId: string; embedding: number[] };
  return { id: out.embedderId, dim: out.embedding.length };
}

function unit(dim: number): Float32Array {
  const v = new Float32Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    // Box-Muller: a normal vector normalised is uniform on the sphere.
    const g = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
    v[i] = g;
    n += g * g;
  }
  for (let i = 0; i < dim; i++) v[i]! /= Math.sqrt(n);
  return v;
}

/** The records of the bench facebank (people "Person 00000"…, K samples each). */
function records(n: number, k: number, model: { id: string; dim: number }): { people: Person[]; samples: Sample[] } {
  const people: Person[] = [];
  const samples: Sample[] = [];
  const created = new Date().toISOString();
  const quality = { size: 112, score: 0.98, blur: 140.2, yaw: 4.1, pitch: -2.3, roll: 0.7 };
  for (let p = 0; p < n; p++) {
    const person = { id: randomUUID(), name: `Person ${String(p).padStart(5, '0')}`, created, notes: '' };
    people.push(person);
    for (let s = 0; s < k; s++)
      samples.push({
        id: randomUUID(),
        personId: person.id,
        embedding: unit(model.dim),
        modelId: model.id,
        quality,
        source: 'upload',
        created,
        negative: false,
      });
  }
  return { people, samples };
}

/** Writes the facebank as a journal (this build's layout) and one crop per sample; returns the crop bytes. */
async function buildDataDir(dir: string, recs: { people: Person[]; samples: Sample[] }): Promise<void> {
  mkdirSync(path.join(dir, 'samples'), { recursive: true });
  const crop = await sharp(photo).resize(112, 112, { fit: 'cover' }).removeAlpha().jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
  for (const s of recs.samples) writeFileSync(path.join(dir, 'samples', `${s.id}.jpg`), crop);
  writeFileSync(
    path.join(dir, JOURNAL_FILE),
    Buffer.concat([...compactedFrames({ format: 'facegate-facebank', version: 2, seq: 0 }, recs.people, recs.samples)]),
  );
}

/** The same facebank as the older single facebank.json (crops hard-linked from `from`). */
function buildLegacyDir(dir: string, from: string, recs: { people: Person[]; samples: Sample[] }): void {
  mkdirSync(path.join(dir, 'samples'), { recursive: true });
  for (const s of recs.samples) linkSync(path.join(from, 'samples', `${s.id}.jpg`), path.join(dir, 'samples', `${s.id}.jpg`));
  const samples = recs.samples.map((s) => ({ ...s, embedding: Array.from(s.embedding, (v) => Number(v.toPrecision(9))) }));
  writeFileSync(path.join(dir, 'facebank.json'), JSON.stringify({ version: 1, seq: 0, people: recs.people, samples }));
}

const status = (pid: number) => readFileSync(`/proc/${pid}/status`, 'utf8');
const kbOf = (pid: number, key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status(pid))?.[1] ?? NaN);
function io(pid: number): { wchar: number; writeBytes: number } {
  const t = readFileSync(`/proc/${pid}/io`, 'utf8');
  return { wchar: Number(/wchar: (\d+)/.exec(t)?.[1]), writeBytes: Number(/write_bytes: (\d+)/.exec(t)?.[1]) };
}

/** One request to the appliance's local API (<dataDir>/facegate.sock). */
function local(dataDir: string, method: string, urlPath: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: path.join(dataDir, 'facegate.sock'), method, path: urlPath, headers: body ? { 'content-length': body.length } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface RunFigures {
  startS: number;
  idleRssMb: number;
  /** RSS a minute after idleRssMb, once V8 has given back the heap start-up used. */
  settledRssMb: number;
  renameMs: number;
  renameWcharKb: number;
  renameDiskKb: number;
  enrolMs: number;
  enrolWcharKb: number;
  enrolDiskKb: number;
  peakRssMb: number;
}

/** Starts `facegate run` (the given build) on dataDir, measures it, stops it. */
async function measureRun(label: string, cliJs: string, dataDir: string, people: Person[]): Promise<RunFigures> {
  const config = path.join(dataDir, '..', `${path.basename(dataDir)}.yaml`);
  const webPort = await freePort();
  writeFileSync(
    config,
    stringify({
      dataDir,
      mqtt: { embedded: { host: '127.0.0.1', port: await freePort() }, prefix: `bench-${webPort}` },
      web: { host: '127.0.0.1', port: webPort },
    }),
  );
  let log = '';
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, [cliJs, 'run', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...mallocEnv(), NOTIFY_SOCKET: '' },
  });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  try {
    while (!log.includes('facegate running')) {
      if (child.exitCode !== null) throw new Error(`${label}: facegate run exited ${child.exitCode}:\n${log.slice(-3000)}`);
      if (performance.now() - t0 > 600_000) throw new Error(`${label}: not running after 10 minutes`);
      await sleep(20);
    }
    const startS = (performance.now() - t0) / 1000;
    const pid = child.pid!;
    await sleep(10_000); // idle: start-up work (matcher, discovery) settles
    const idleRssMb = mb(kbOf(pid, 'VmRSS'));
    // V8 gives back the heap start-up used only later, in steps (about 30 MB at 10,000 x 5, 10-35 s after this
    // reading): the settled figure is RSS a minute later.
    await sleep(60_000);
    const settledRssMb = mb(kbOf(pid, 'VmRSS'));
    const photoBytes = readFileSync(photo);
    const timed = async (fn: () => Promise<{ status: number; body: string }>) => {
      const before = io(pid);
      const t = performance.now();
      const r = await fn();
      const ms = performance.now() - t;
      if (r.status !== 200) throw new Error(`${label}: ${r.status} ${r.body}`);
      await sleep(300);
      const after = io(pid);
      return { ms, wchar: after.wchar - before.wchar, disk: after.writeBytes - before.writeBytes };
    };
    const renames = [];
    for (let i = 0; i < 5; i++) {
      const p = people[Math.floor(Math.random() * people.length)]!;
      renames.push(await timed(() => local(dataDir, 'POST', '/v1/people/rename', Buffer.from(JSON.stringify({ ref: p.id, name: `Renamed ${i} ${p.name}` })))));
    }
    const enrols = [];
    for (let i = 0; i < 3; i++)
      enrols.push(await timed(() => local(dataDir, 'POST', `/v1/enrol?name=${encodeURIComponent(`Bench Enrol ${i} ${webPort}`)}&file=amy1.png`, photoBytes)));
    const f: RunFigures = {
      startS: Math.round(startS * 100) / 100,
      idleRssMb,
      settledRssMb,
      renameMs: Math.round(median(renames.map((r) => r.ms)) * 10) / 10,
      renameWcharKb: Math.round(median(renames.map((r) => r.wchar)) / 102.4) / 10,
      renameDiskKb: Math.round(median(renames.map((r) => r.disk)) / 102.4) / 10,
      enrolMs: Math.round(median(enrols.map((r) => r.ms)) * 10) / 10,
      enrolWcharKb: Math.round(median(enrols.map((r) => r.wchar)) / 102.4) / 10,
      enrolDiskKb: Math.round(median(enrols.map((r) => r.disk)) / 102.4) / 10,
      peakRssMb: mb(kbOf(pid, 'VmHWM')),
    };
    say(
      `${label}: start ${f.startS} s, idle ${f.idleRssMb} MB (settled ${f.settledRssMb} MB), rename ${f.renameMs} ms (${f.renameWcharKb} kB written, ${f.renameDiskKb} kB to disk), ` +
        `enrolment ${f.enrolMs} ms (${f.enrolWcharKb} kB, ${f.enrolDiskKb} kB to disk), peak ${f.peakRssMb} MB`,
    );
    return f;
  } finally {
    child.kill('SIGTERM');
    const end = Date.now() + 30_000;
    while (child.exitCode === null && child.signalCode === null && Date.now() < end) await sleep(50);
    await killAndWait(child);
  }
}

/** Build time and the median and p90 of 300 matches of one face against every sample (after 30 not counted). */
function timeMatches(people: Person[], samples: Sample[], modelId: string, options: MatcherOptions) {
  const t0 = performance.now();
  const m = new Matcher(people, samples, modelId, options);
  const buildMs = performance.now() - t0;
  const dim = samples[0]?.embedding.length ?? 192;
  const times: number[] = [];
  for (let i = 0; i < 330; i++) {
    const q = i % 2 ? unit(dim) : samples[Math.floor(Math.random() * samples.length)]!.embedding;
    const t = performance.now();
    m.match(q);
    if (i >= 30) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { rows: m.size, buildMs: Math.round(buildMs), matchMs: r(median(times)), p90Ms: r(times[Math.floor(times.length * 0.9)]!) };
}

/**
 * Matching one face against every sample: one row per sample, and as the appliance's live matcher does it (its
 * options: each person's centroid is a row too, so 10,000 x 5 is 60,000 rows).
 */
async function measureMatch(dataDir: string, modelId: string) {
  const { people, samples } = await readFacebankFiles(dataDir);
  const options = { threshold: 0.6, margin: 0.05, trimFraction: 0.2, negativeMargin: 0.05 };
  const plain = timeMatches(people, samples, modelId, options);
  const live = timeMatches(people, samples, modelId, matcherOptions(options, 0.6));
  return { samples: samples.length, buildMs: plain.buildMs, matchMs: plain.matchMs, p90Ms: plain.p90Ms, live };
}

/** Importing a facebank.json with this build, in a child process: time and its peak RSS. */
function measureImport(legacyDir: string): { importS: number; peakRssMb: number } {
  const code = `
    const { Facebank } = await import(${JSON.stringify(path.join(repoRoot, 'dist', 'store', 'facebank.js'))});
    const t = performance.now();
    const fb = new Facebank(${JSON.stringify(legacyDir)});
    await fb.open();
    const s = (performance.now() - t) / 1000;
    await fb.close();
    const hwm = Number(/VmHWM:\\s+(\\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]);
    console.log(JSON.stringify({ s, hwm }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { s: number; hwm: number };
  return { importS: Math.round(out.s * 100) / 100, peakRssMb: mb(out.hwm) };
}

async function main(): Promise<void> {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  if (!existsSync(photo)) throw new Error(`no face photo at ${photo}: give one with --photo <file> (or set FACEGATE_TEST_DATA)`);
  if (oldCli && !existsSync(oldCli)) throw new Error(`--old ${oldCli} does not exist`);
  const root = path.resolve(argOf('data-dir') ?? mkdtempSync(path.join(os.tmpdir(), 'facegate-bench-facebank-')));
  mkdirSync(root, { recursive: true });
  const model = embedderOf();
  say(`facebank of ${N} people x ${K} samples (${model.id}, ${model.dim} values), in ${root}`);
  const recs = records(N, K, model);
  const main = path.join(root, 'facebank');
  rmSync(main, { recursive: true, force: true });
  let t = performance.now();
  await buildDataDir(main, recs);
  say(`built in ${((performance.now() - t) / 1000).toFixed(1)} s: ${(readFileSync(path.join(main, JOURNAL_FILE)).length / 1048576).toFixed(1)} MB journal`);

  // The appliance without a facebank worth the name: what the engine, web and broker cost.
  const small = path.join(root, 'baseline-1-person');
  rmSync(small, { recursive: true, force: true });
  const one = records(1, 1, model);
  await buildDataDir(small, one);
  const baseline = await measureRun('1 person (baseline)', cli, small, one.people);
  const current = await measureRun(`${N} x ${K}, this build`, cli, main, recs.people);
  const match = await measureMatch(main, model.id);
  say(`match: one face against ${match.samples} samples ${match.matchMs} ms median (p90 ${match.p90Ms} ms); matcher built in ${match.buildMs} ms`);
  say(
    `match as the live matcher (${match.live.rows} rows with the centroids): ${match.live.matchMs} ms median (p90 ${match.live.p90Ms} ms); built in ${match.live.buildMs} ms`,
  );

  let old: RunFigures | null = null;
  let imported: { importS: number; peakRssMb: number } | null = null;
  const legacy = path.join(root, 'legacy');
  rmSync(legacy, { recursive: true, force: true });
  buildLegacyDir(legacy, main, recs);
  say(`facebank.json of the same facebank: ${(readFileSync(path.join(legacy, 'facebank.json')).length / 1048576).toFixed(1)} MB`);
  if (oldCli) old = await measureRun(`${N} x ${K}, older build (facebank.json)`, oldCli, legacy, recs.people);
  t = performance.now();
  const importDir = path.join(root, 'import');
  rmSync(importDir, { recursive: true, force: true });
  buildLegacyDir(importDir, main, recs);
  imported = measureImport(importDir);
  say(`import of that facebank.json by this build: ${imported.importS} s, peak ${imported.peakRssMb} MB`);
  rmSync(importDir, { recursive: true, force: true });

  const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toPrecision(3)) : null);
  const ratios = old ? Object.fromEntries((Object.keys(current) as (keyof RunFigures)[]).map((k) => [k, ratio(current[k], old[k])])) : null;
  const result = { people: N, samples: K, model, dataDir: main, baseline, current, old, ratiosToOld: ratios, match, import: imported };
  if (json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    if (ratios) say(`this build / older build: ${JSON.stringify(ratios)}`);
    say(`the facebank is left in ${main} (journal) and ${legacy} (facebank.json)`);
  }
  // Keep the facebank the bench built: opened once so it is a checked, normal data directory.
  const fb = new Facebank(main);
  await fb.open();
  await fb.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:facebank failed: ${(e as Error).message}\n`);
  process.exit(1);
});
