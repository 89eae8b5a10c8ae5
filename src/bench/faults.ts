/**
 * `npm run bench:faults`: a benchmark, not a test. A real `facegate run` (dist/cli.js) watches an RTSP camera
 * (GStreamer server) and a looping file camera, publishing to a real mosquitto with a persistent QoS-1 subscriber,
 * for a bounded time while the broker and the RTSP server are SIGKILLed and restarted in turn. It reports events
 * emitted / received / duplicated, broker reconnect and camera recovery times, RSS and open fds over time (with
 * their slope) and the number of ffmpeg children. Then (bench/faults-disk.ts, root only) a second appliance on a
 * 3 MiB tmpfs: the disk fills up while its camera runs, and it is SIGKILLed right after delivered events.
 *
 *   npm run bench:faults -- [--minutes 3] [--period 30] [--json] [--no-unit-env] [--no-disk | --only-disk]
 *   (--minutes 30 for the soak)
 *
 * Runs from a source checkout only (it uses test/helpers/rtsp_server.py; the bench is not in the npm package). Needs
 * mosquitto, python3 with GStreamer's RTSP bindings, the shared data (or FACEGATE_TEST_DATA) and `npm run build`;
 * when something is missing it names all of it in one message and exits 1 before starting anything.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { ffmpegBinary } from '../ingest/ffmpeg.js';
import { killAndWait } from '../util/child.js';
import { runDiskPhases, type DiskPhaseResult } from './faults-disk.js';
import { freePort, waitForPort } from '../util/net.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repoRoot, 'dist', 'cli.js');
const rtspScript = path.join(repoRoot, 'test', 'helpers', 'rtsp_server.py');
const unitFile = path.join(repoRoot, 'systemd', 'facegate.service');

/** The unit's `Environment=MALLOC_*=…` lines, so the appliance runs with the allocator settings it has in service. */
function mallocEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of readFileSync(unitFile, 'utf8').matchAll(/^Environment=(MALLOC_\w+)=(\S+)$/gm)) out[m[1]!] = m[2]!;
  return out;
}

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const json = process.argv.includes('--json');
/** --no-unit-env: run the appliance without the unit's malloc settings (the figures before they were set). */
const unitEnv = !process.argv.includes('--no-unit-env');
const minutes = arg('minutes', 3);
/** --no-disk: skip the disk-full and SIGKILL-history phases; --only-disk: run only them. */
const diskPhases = process.argv.includes('--no-disk') ? 'no' : process.argv.includes('--only-disk') ? 'only' : 'yes';
const periodS = arg('period', 30);
const say = (s: string) => {
  if (!json) process.stdout.write(s + '\n');
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** First executable called `name` on the PATH or in the sbin folders. */
function which(name: string): string | null {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    try {
      accessSync(path.join(d, name), constants.X_OK);
      return path.join(d, name);
    } catch {
      /* next */
    }
  }
  return null;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A child process that can be SIGKILLed and started again with the same arguments. */
class Restartable {
  child: ChildProcess | null = null;
  constructor(
    private readonly bin: string,
    private readonly args: string[],
    private readonly port: number,
  ) {}
  async start(): Promise<void> {
    this.child = spawn(this.bin, this.args, { stdio: 'ignore' });
    await waitForPort(this.port, 15_000);
  }
  async kill(): Promise<void> {
    const c = this.child;
    this.child = null;
    await killAndWait(c);
  }
}

/** Pids of the ffmpeg children of a process, from /proc. */
function ffmpegChildren(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(readFileSync(`/proc/${p}/stat`, 'utf8'));
      if (m && m[1] === 'ffmpeg' && Number(m[2]) === pid) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Resident set (MB), open fds and ffmpeg children of a process, from /proc. */
function sample(pid: number): { rssMb: number; fds: number; ffmpeg: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  return { rssMb, fds: readdirSync(`/proc/${pid}/fd`).length, ffmpeg: ffmpegChildren(pid).length };
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks are 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den ? num / den : 0;
}

const stats = (v: number[]) =>
  v.length ? { n: v.length, median: [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!, max: Math.max(...v) } : { n: 0, median: NaN, max: NaN };
const metric = (text: string, name: string) => Number(new RegExp(`^${name} ([\\d.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);

async function main(): Promise<void> {
  const mosquitto = which('mosquitto');
  const python = ['/usr/bin/python3', which('python3')].find(
    (p) => p && spawnSync(p, ['-c', "import gi; gi.require_version('GstRtspServer','1.0')"], { stdio: 'ignore' }).status === 0,
  );
  const data = process.env.FACEGATE_TEST_DATA ?? path.resolve(repoRoot, '../shared/data');
  const clip = path.join(data, 'video', 'hamilton', 'short_hamilton_clip.mp4');
  const face = path.join(data, 'video', 'hamilton', 'lin-manuel-miranda.png');
  const missing = [
    !existsSync(rtspScript) &&
      `the test helpers of a source checkout (${rtspScript} is missing: run it from a git clone of facegate, not from an installed package)`,
    !existsSync(cli) && `the built appliance ${cli} (run \`npm run build\`)`,
    !mosquitto && 'the mosquitto broker (apt-get install mosquitto)',
    !python &&
      "python3 with GStreamer's RTSP server bindings (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav)",
    !(existsSync(clip) && existsSync(face)) &&
      `the shared face data (${path.relative(data, clip)} and ${path.basename(face)} under ${data}; put the data beside the checkout or set FACEGATE_TEST_DATA)`,
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length) throw new Error(`it needs ${missing.join('; ')}.`);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'facegate-faults-'));
  const children: Array<() => Promise<void>> = [];
  try {
    // Broker: sessions saved every second so the subscriber's session survives a SIGKILL.
    const mqttPort = await freePort();
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${mqttPort} 127.0.0.1`,
        `user ${os.userInfo().username}`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${dir}/`,
        'autosave_interval 1',
        '',
      ].join('\n'),
    );
    const broker = new Restartable(mosquitto!, ['-c', path.join(dir, 'mosquitto.conf')], mqttPort);
    children.push(() => broker.kill());
    await broker.start();
    const disk = (): Promise<DiskPhaseResult> =>
      runDiskPhases({ cli, dir, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, clip, face, windowS: 20, killRounds: 5, say });
    if (diskPhases === 'only') {
      say('bench:faults --only-disk');
      const r = await disk();
      if ('skipped' in r) say(`  disk phases skipped: ${r.skipped}`);
      if (json) process.stdout.write(JSON.stringify({ date: new Date().toISOString(), disk: r }) + '\n');
      return;
    }

    // RTSP server over the clip repeated long enough for the run.
    const looped = path.join(dir, 'looped.mp4');
    const loops = Math.min(400, Math.ceil(minutes * 6) + 6);
    const prep = spawnSync(ffmpegBinary(), ['-v', 'error', '-stream_loop', String(loops - 1), '-i', clip, '-an', '-c', 'copy', '-y', looped]);
    if (prep.status !== 0) throw new Error(`could not prepare the RTSP clip: ${prep.stderr.toString()}`);
    const rtspPort = await freePort();
    const rtsp = new Restartable(python!, [rtspScript, '--port', String(rtspPort), '--file', looped], rtspPort);
    children.push(() => rtsp.kill());
    await rtsp.start();

    // A persistent QoS-1 subscriber: every copy of every event, camera status and availability with arrival times.
    const copies = new Map<string, number>();
    const status: Array<{ at: number; camera: string; state: string }> = [];
    const sub = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'faults-watcher', clean: false, reconnectPeriod: 200 });
    sub.on('message', (topic, payload) => {
      if (topic.endsWith('/events')) {
        const id = (JSON.parse(payload.toString()) as { id: string }).id;
        copies.set(id, (copies.get(id) ?? 0) + 1);
      } else if (topic.endsWith('/status') && payload.length) {
        // (an empty payload: an old-layout retained status being cleared)
        const s = JSON.parse(payload.toString()) as { camera: string; state: string };
        status.push({ at: Date.now(), camera: s.camera, state: s.state });
      }
    });
    await new Promise<void>((r) => sub.once('connect', () => r()));
    await sub.subscribeAsync('fb/#', { qos: 1 });
    children.push(async () => void (await sub.endAsync(true)));

    // The appliance, with one enrolled person.
    const dataDir = path.join(dir, 'data');
    const enrol = spawnSync(process.execPath, [cli, 'enroll', 'Lin-Manuel Miranda', face, '--data-dir', dataDir], { stdio: 'ignore' });
    if (enrol.status !== 0) throw new Error('enrolment failed');
    const webPort = await freePort();
    writeFileSync(
      path.join(dir, 'config.yaml'),
      stringify({
        dataDir,
        cameras: [
          { name: 'stage', url: `rtsp://127.0.0.1:${rtspPort}/stream` },
          { name: 'door', url: clip, loop: true },
        ],
        pipeline: { fps: 5, staleAfterSeconds: 12 },
        mqtt: { url: `mqtt://127.0.0.1:${mqttPort}`, prefix: 'fb' },
        web: { host: '127.0.0.1', port: webPort },
      }),
    );
    let log = '';
    const malloc = unitEnv ? mallocEnv() : {};
    const app = spawn(process.execPath, [cli, 'run', '--config', path.join(dir, 'config.yaml')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...malloc, NOTIFY_SOCKET: '' },
    });
    app.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)));
    const appExit = new Promise<number | null>((r) => app.once('exit', (c) => r(c)));
    children.push(async () => {
      if (app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
      await appExit;
    });
    await until('facegate running', () => log.includes('facegate running'), 120_000);
    const metrics = async () => {
      try {
        return await (await fetch(`http://127.0.0.1:${webPort}/metrics`)).text();
      } catch {
        return '';
      }
    };
    const pid = app.pid!;
    const t0 = Date.now();
    const cpu0 = cpuSeconds(pid);
    const end = t0 + minutes * 60_000;
    const allocator =
      Object.entries(malloc)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'glibc malloc defaults';
    say(`bench:faults: ${minutes} min, a fault every ${periodS} s (broker and RTSP server in turn), pid ${pid}, ${allocator}`);

    // The main thread's JS heap (from /metrics) tells JavaScript growth apart from native memory (onnxruntime, workers).
    const samples: Array<{ t: number; rssMb: number; heapMb: number; fds: number; ffmpeg: number }> = [];
    const sampler = setInterval(() => {
      void metrics().then((text) => {
        try {
          samples.push({ t: (Date.now() - t0) / 60_000, heapMb: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20, ...sample(pid) });
        } catch {
          /* exited */
        }
      });
    }, 5000);
    children.push(async () => clearInterval(sampler));

    const reconnectS: number[] = [];
    const offlineS: number[] = [];
    const onlineS: number[] = [];
    let brokerKills = 0;
    let rtspKills = 0;
    let turn = 0;
    while (Date.now() + periodS * 1000 < end) {
      await sleep(periodS * 1000);
      if (turn++ % 2 === 0) {
        await broker.kill();
        brokerKills++;
        await sleep(5000);
        const back = Date.now();
        await broker.start();
        await until('the appliance reconnected', async () => metric(await metrics(), 'facegate_broker_connected') === 1, 60_000);
        reconnectS.push((Date.now() - back) / 1000);
        say(`  broker SIGKILL #${brokerKills}: reconnected ${reconnectS.at(-1)!.toFixed(1)} s after it returned`);
      } else {
        const mark = status.length;
        const killed = Date.now();
        await rtsp.kill();
        rtspKills++;
        await until('stage offline', () => status.slice(mark).some((s) => s.camera === 'stage' && s.state === 'offline'), 60_000);
        offlineS.push((status.slice(mark).find((s) => s.camera === 'stage' && s.state === 'offline')!.at - killed) / 1000);
        await sleep(15_000);
        const back = status.length;
        const backAt = Date.now();
        await rtsp.start();
        await until('stage online', () => status.slice(back).some((s) => s.camera === 'stage' && s.state === 'online'), 60_000);
        onlineS.push((status.slice(back).find((s) => s.camera === 'stage' && s.state === 'online')!.at - backAt) / 1000);
        say(`  RTSP SIGKILL #${rtspKills}: offline after ${offlineS.at(-1)!.toFixed(1)} s, online ${onlineS.at(-1)!.toFixed(1)} s after it returned`);
      }
    }
    await sleep(Math.max(0, end - Date.now()));
    const cpuShare = (cpuSeconds(pid) - cpu0) / ((Date.now() - t0) / 1000);

    // Quiet, then count: the cameras' ffmpeg are paused (SIGSTOP; less than staleAfterSeconds, so nothing restarts),
    // open tracks end, and once the appliance's counters stand still every event it published must be at the subscriber.
    // Still means unchanged over 3.5 s: longer than a track's end (2 s after its last face) plus the counters' refresh
    // (once a second). The counters are read again after the subscriber caught up, and it starts over if they moved.
    clearInterval(sampler);
    for (const p of ffmpegChildren(pid)) process.kill(p, 'SIGSTOP');
    let m = '';
    let published = -1;
    await until(
      'the appliance went quiet and the subscriber caught up',
      async () => {
        const before = await metrics();
        await sleep(3500);
        m = await metrics();
        const now = metric(m, 'facegate_events_published_total');
        if (now !== metric(before, 'facegate_events_published_total') || metric(m, 'facegate_events_queued') !== 0) return false;
        await until('the subscriber caught up', () => copies.size >= now, 10_000).catch(() => {});
        const settled = now === published;
        published = now;
        return settled;
      },
      60_000,
    );
    const dropped = metric(m, 'facegate_events_dropped_total');
    const unique = copies.size;
    const received = [...copies.values()].reduce((a, b) => a + b, 0);
    app.kill('SIGTERM');
    const exitCode = await appExit;
    const diskResult = diskPhases === 'yes' ? await disk() : { skipped: '--no-disk' };
    if ('skipped' in diskResult) say(`  disk phases skipped: ${diskResult.skipped}`);

    const after = samples.filter((s) => s.t >= Math.min(1, minutes / 3)); // past warm-up
    const late = samples.filter((s) => s.t >= minutes / 2); // growth that goes on, not warm-up that plateaus
    const result = {
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.type()} ${os.release()}`,
      minutes,
      periodSeconds: periodS,
      allocator,
      brokerKills,
      rtspKills,
      events: { emitted: published + dropped, published, dropped, received, unique, duplicates: received - unique, lost: published + dropped - unique },
      brokerReconnectSeconds: stats(reconnectS),
      cameraOfflineSeconds: stats(offlineS),
      cameraBackSeconds: stats(onlineS),
      rssMb: {
        first: samples[0]?.rssMb,
        last: samples.at(-1)?.rssMb,
        max: Math.max(...samples.map((s) => s.rssMb)),
        slopePerMin: slope(
          after.map((s) => s.t),
          after.map((s) => s.rssMb),
        ),
        secondHalfSlopePerMin: slope(
          late.map((s) => s.t),
          late.map((s) => s.rssMb),
        ),
      },
      heapMb: {
        first: samples[0]?.heapMb,
        last: samples.at(-1)?.heapMb,
        slopePerMin: slope(
          after.map((s) => s.t),
          after.map((s) => s.heapMb),
        ),
      },
      fds: {
        min: Math.min(...samples.map((s) => s.fds)),
        max: Math.max(...samples.map((s) => s.fds)),
        slopePerMin: slope(
          after.map((s) => s.t),
          after.map((s) => s.fds),
        ),
      },
      ffmpeg: { min: Math.min(...samples.map((s) => s.ffmpeg)), max: Math.max(...samples.map((s) => s.ffmpeg)), last: samples.at(-1)?.ffmpeg },
      /** The appliance's CPU time over the run, in cores (1 = one core busy); its ffmpeg children not included. */
      cpuCores: cpuShare,
      sigtermExit: exitCode,
      disk: diskResult,
    };
    if (json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      const e = result.events;
      say(`events: ${e.emitted} emitted (${e.dropped} dropped), ${e.received} received, ${e.duplicates} duplicates, ${e.lost} lost`);
      say(`broker reconnect: median ${result.brokerReconnectSeconds.median} s, max ${result.brokerReconnectSeconds.max} s (${brokerKills} kills)`);
      say(
        `camera offline after: median ${result.cameraOfflineSeconds.median} s; back after: median ${result.cameraBackSeconds.median} s, max ${result.cameraBackSeconds.max} s (${rtspKills} kills)`,
      );
      say(
        `RSS ${result.rssMb.first?.toFixed(0)} → ${result.rssMb.last?.toFixed(0)} MB (max ${result.rssMb.max.toFixed(0)}), slope ${result.rssMb.slopePerMin.toFixed(2)} MB/min after warm-up, ${result.rssMb.secondHalfSlopePerMin.toFixed(2)} MB/min over the second half`,
      );
      say(
        `main-thread JS heap ${result.heapMb.first?.toFixed(0)} → ${result.heapMb.last?.toFixed(0)} MB, slope ${result.heapMb.slopePerMin.toFixed(2)} MB/min`,
      );
      say(
        `fds ${result.fds.min}-${result.fds.max} (slope ${result.fds.slopePerMin.toFixed(2)}/min); ffmpeg children ${result.ffmpeg.min}-${result.ffmpeg.max}; SIGTERM exit ${exitCode}`,
      );
      say(`appliance CPU: ${(cpuShare * 100).toFixed(0)} % of one core on average (its ffmpeg children not counted)`);
    }
  } finally {
    for (const stop of children.reverse()) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench:faults failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
