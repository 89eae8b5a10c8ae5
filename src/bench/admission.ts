/**
 * `npm run bench:admission`: does the camera loop keep its frame rate while photos are enrolled, and what does
 * a burst of large uploads cost in memory? Runs `facegate run` (a looping file camera at pipeline.fps) twice:
 * with admission control (web.heavyJobs 1) and effectively without it (heavyJobs 16, a long queue). In each run
 * the loop's frames/s is measured idle, then while `--uploaders` clients upload `--megapixels` photos
 * back to back for `--seconds`; peak RSS is the process's VmHWM. `--json` prints one JSON object last.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { HAMILTON_CLIP, requireData } from './frames.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const json = args.includes('--json');
const MEGAPIXELS = opt('megapixels', 12);
const SECONDS = opt('seconds', 20);
const UPLOADERS = opt('uploaders', 3);
const IDLE_SECONDS = opt('idle-seconds', 10);
const say = (s: string) => {
  if (!json) process.stdout.write(s + '\n');
};
const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

async function metric(base: string, re: RegExp): Promise<number> {
  const m = re.exec(await (await fetch(`${base}/metrics`)).text());
  return m ? Number(m[1]) : 0;
}
const ticks = (base: string) => metric(base, /^facegate_stage_seconds_count\{stage="tick"\} (\d+)/m);
const dropped = (base: string) => metric(base, /^facegate_frames_dropped_total\{camera="door"\} (\d+)/m);
const rssMb = (pid: number, field: 'VmHWM' | 'VmRSS') =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** A photo of `mp` megapixels with one face (from the Hamilton stills) on a textured background. */
async function bigPhoto(file: string, mp: number): Promise<void> {
  const w = Math.round(Math.sqrt((mp * 1e6 * 4) / 3));
  const h = Math.round((w * 3) / 4);
  const face = await sharp(requireData('video', 'hamilton', 'lin-manuel-miranda.png'))
    .resize(Math.round(h / 4))
    .png()
    .toBuffer();
  await sharp({ create: { width: w, height: h, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 12 } } })
    .composite([{ input: face, left: Math.round(w / 2 - h / 8), top: Math.round(h / 2 - h / 8) }])
    .jpeg({ quality: 70 })
    .toFile(file);
}

interface RunResult {
  heavyJobs: number;
  idleFps: number;
  burstFps: number;
  fpsRatio: number;
  droppedPerSecondIdle: number;
  droppedPerSecondBurst: number;
  uploadsDone: number;
  uploads429: number;
  rssIdleMb: number;
  peakRssMb: number;
}

async function run(dir: string, photo: string, heavyJobs: number, heavyQueue: number): Promise<RunResult> {
  const port = await freePort();
  const data = path.join(dir, `data-${heavyJobs}`);
  const config = path.join(dir, `config-${heavyJobs}.yaml`);
  writeFileSync(
    config,
    [
      `dataDir: ${data}`,
      'cameras:',
      '  - name: door',
      `    url: ${requireData(...HAMILTON_CLIP)}`,
      '    loop: true',
      'mqtt:',
      '  url: mqtt://127.0.0.1:9',
      'web:',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      `  maxUploadBytes: ${64 * 1024 * 1024}`,
      `  maxRequestBytes: ${64 * 1024 * 1024}`,
      `  heavyJobs: ${heavyJobs}`,
      `  heavyQueue: ${heavyQueue}`,
      'log:',
      '  level: warn',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.execPath, [cli, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NOTIFY_SOCKET: '' },
  });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    const end = Date.now() + 180_000;
    while ((await ticks(base).catch(() => 0)) < 20) {
      if (child.exitCode !== null) throw new Error(`facegate run exited: ${log}`);
      if (Date.now() > end) throw new Error('the loop did not start');
      await new Promise((r) => setTimeout(r, 500));
    }
    // Sign in as the page does and make a person to upload to.
    // An unclaimed appliance prints its one-time claim code on stderr; set-up needs it.
    const claimCode = /^ {2}Claim code: (\S+)$/m.exec(log)?.[1];
    if (!claimCode) throw new Error(`no claim code on stderr: ${log}`);
    const setup = await fetch(`${base}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ password: 'bench password 1', claimCode }),
    });
    if (!setup.ok) throw new Error(`set-up refused: ${setup.status} ${await setup.text()}`);
    const cookie = /^(fg_session=[^;]*)/.exec(setup.headers.get('set-cookie') ?? '')![1]!;
    const csrf = ((await setup.json()) as { csrfToken: string }).csrfToken;
    const headers = { cookie, origin: base, 'x-csrf-token': csrf };
    const person = (
      (await (
        await fetch(`${base}/api/people`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Bench' }),
        })
      ).json()) as { id: string }
    ).id;
    const bytes = readFileSync(photo);

    const window = async (seconds: number) => {
      const [t0, d0, at] = [await ticks(base), await dropped(base), Date.now()];
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const s = (Date.now() - at) / 1000;
      return { fps: ((await ticks(base)) - t0) / s, dropped: ((await dropped(base)) - d0) / s };
    };
    const idle = await window(IDLE_SECONDS);
    const rssIdleMb = rssMb(child.pid!, 'VmRSS');

    let stop = false;
    let done = 0;
    let busy = 0;
    const uploader = async () => {
      while (!stop) {
        const form = new FormData();
        form.append('photos', new Blob([bytes]), 'big.jpg');
        const res = await fetch(`${base}/api/people/${person}/photos`, { method: 'POST', headers, body: form });
        await res.arrayBuffer();
        if (res.status === 429) {
          busy++;
          await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
        } else if (res.ok) done++;
        else throw new Error(`upload answered ${res.status}`);
      }
    };
    const clients = Array.from({ length: UPLOADERS }, uploader);
    const burst = await window(SECONDS);
    stop = true;
    await Promise.all(clients);
    const peakRssMb = rssMb(child.pid!, 'VmHWM');
    return {
      heavyJobs,
      idleFps: idle.fps,
      burstFps: burst.fps,
      fpsRatio: burst.fps / idle.fps,
      droppedPerSecondIdle: idle.dropped,
      droppedPerSecondBurst: burst.dropped,
      uploadsDone: done,
      uploads429: busy,
      rssIdleMb,
      peakRssMb,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'facegate-bench-adm-'));
try {
  const photo = path.join(dir, 'big.jpg');
  await bigPhoto(photo, MEGAPIXELS);
  say(
    `Admission bench: ${UPLOADERS} uploaders of a ${MEGAPIXELS} MP photo for ${SECONDS} s beside a looping file camera (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''})`,
  );
  const results: RunResult[] = [];
  for (const [jobs, queue] of [
    [1, 16],
    [16, 1000],
  ] as const) {
    const r = await run(dir, photo, jobs, queue);
    results.push(r);
    say(
      `heavyJobs ${String(jobs).padStart(2)}: loop ${r.idleFps.toFixed(2)} fps idle -> ${r.burstFps.toFixed(2)} fps during uploads (x${r.fpsRatio.toFixed(2)}), ` +
        `dropped ${r.droppedPerSecondIdle.toFixed(2)} -> ${r.droppedPerSecondBurst.toFixed(2)} frames/s, ${r.uploadsDone} uploads done, ${r.uploads429} answered 429, ` +
        `RSS ${r.rssIdleMb.toFixed(0)} MB idle, peak ${r.peakRssMb.toFixed(0)} MB`,
    );
  }
  if (json) process.stdout.write(JSON.stringify({ megapixels: MEGAPIXELS, seconds: SECONDS, uploaders: UPLOADERS, results }) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
