/**
 * The disk and SIGKILL phases of `npm run bench:faults`: a real `facegate run` with a looping file camera, its data
 * dir on a 3 MiB tmpfs (root only: without it the phases are reported as skipped), publishing to the bench's broker.
 * - Disk full: the tmpfs is filled while the camera runs; it counts live events before and while full (as a
 *   ratio), the seconds until /readyz says so and until it recovers after space is freed, the "full" log lines, and
 *   torn lines left in the journals.
 * - SIGKILL history: rounds of "an event reached the subscriber, SIGKILL, restart"; it counts events received
 *   before a kill that /api/events does not list after the restart.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { freePort } from '../util/net.js';

export interface DiskPhaseOptions {
  cli: string;
  /** A folder for the phase's files (the tmpfs is mounted inside it). */
  dir: string;
  mqttUrl: string;
  /** The looping clip and a face to enrol. */
  clip: string;
  face: string;
  /** Seconds to count live events before and while the disk is full. */
  windowS: number;
  killRounds: number;
  say: (s: string) => void;
}

export type DiskPhaseResult =
  | { skipped: string }
  | {
      diskFull: {
        eventsBefore: number;
        eventsWhileFull: number;
        /** Live events while full over live events before, same window: 1 means unaffected. */
        liveRatio: number;
        readyzSaysFullAfterS: number;
        recoveredAfterFreeS: number;
        fullLogLines: number;
        appExits: number;
        tornLines: number;
        /** Events received while the disk was full that /api/events lists after the recovery and a restart. */
        keptAfterRecovery: string;
      };
      sigkill: { rounds: number; received: number; missingFromHistory: number };
    };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Fills the file system holding `dir` to the last byte. */
function fill(file: string): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try {
          writeSync(fd, chunk, 0, size);
        } catch {
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Lines of JSON-lines files that do not parse, and whether a file ends mid-line. */
function tornLines(files: string[]): number {
  let bad = 0;
  for (const f of files) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (text && !text.endsWith('\n')) bad++;
    for (const l of text.split('\n').filter(Boolean))
      try {
        JSON.parse(l);
      } catch {
        bad++;
      }
  }
  return bad;
}

export async function runDiskPhases(o: DiskPhaseOptions): Promise<DiskPhaseResult> {
  const mountDir = mkdtempSync(path.join(o.dir, 'small-disk-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mountDir], { stdio: 'ignore' }).status !== 0) {
    rmSync(mountDir, { recursive: true, force: true });
    return { skipped: 'mounting a 3 MiB tmpfs needs root' };
  }
  let app: ChildProcess | null = null;
  const sub = mqtt.connect(o.mqttUrl, { clientId: 'faults-disk-watcher', reconnectPeriod: 200 });
  try {
    const dataDir = path.join(mountDir, 'data');
    mkdirSync(dataDir);
    if (spawnSync(process.execPath, [o.cli, 'enroll', 'Lin-Manuel Miranda', o.face, '--data-dir', dataDir], { stdio: 'ignore' }).status !== 0)
      throw new Error('enrolment on the small disk failed');
    const webPort = await freePort();
    const config = path.join(o.dir, 'disk-config.yaml');
    writeFileSync(
      config,
      stringify({
        dataDir,
        cameras: [{ name: 'door', url: o.clip, loop: true }],
        pipeline: { fps: 5 },
        mqtt: { url: o.mqttUrl, prefix: 'fh' },
        web: { host: '127.0.0.1', port: webPort },
      }),
    );
    const arrivals: Array<{ at: number; id: string }> = [];
    sub.on('message', (topic, payload) => {
      if (!topic.endsWith('/events')) return;
      arrivals.push({ at: Date.now(), id: (JSON.parse(payload.toString()) as { id: string }).id });
    });
    await new Promise<void>((r) => sub.once('connect', () => r()));
    await sub.subscribeAsync('fh/#', { qos: 1 });

    let log = '';
    let exits = 0;
    const start = async () => {
      log = '';
      const child = spawn(process.execPath, [o.cli, 'run', '--config', config], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, NOTIFY_SOCKET: '' },
      });
      child.stderr!.on('data', (d) => (log += d));
      child.once('exit', () => exits++);
      app = child;
      await until('facegate running', () => log.includes('facegate running'), 180_000);
    };
    const stop = async (signal: NodeJS.Signals) => {
      const child = app!;
      await new Promise((r) => {
        child.once('exit', r);
        child.kill(signal);
      });
      app = null;
    };
    const base = `http://127.0.0.1:${webPort}`;
    const ready = async () => (await (await fetch(`${base}/readyz`)).json()) as { checks: { storage: boolean } };
    let cookie = '';
    const history = async () => {
      const res = await fetch(`${base}/api/events?limit=1000`, { headers: { cookie } });
      return new Set(((await res.json()) as { events: { id: string }[] }).events.map((e) => e.id));
    };

    await start();
    const claim = /"claimCode":"([^"]+)"/.exec(log)?.[1];
    const setup = await fetch(`${base}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ claimCode: claim, password: 'a bench admin password' }),
    });
    cookie = /^(fg_session=[^;]*)/.exec(setup.headers.get('set-cookie') ?? '')?.[1] ?? '';
    if (!setup.ok || !cookie) throw new Error(`could not claim the small-disk appliance (${setup.status})`);

    // Disk full.
    await until('a first live event', () => arrivals.length > 0, 180_000);
    const t0 = Date.now();
    await sleep(o.windowS * 1000);
    const eventsBefore = arrivals.filter((a) => a.at >= t0).length;
    const filledAt = Date.now();
    fill(path.join(mountDir, 'filler'));
    await until('/readyz to say the disk is full', async () => !(await ready()).checks.storage, 120_000);
    const readyzSaysFullAfterS = (Date.now() - filledAt) / 1000;
    const w0 = Date.now();
    await sleep(o.windowS * 1000);
    const whileFull = arrivals.filter((a) => a.at >= w0).map((a) => a.id);
    const fullLogLines = (log.match(/is full \(ENOSPC\)/g) ?? []).length;
    rmSync(path.join(mountDir, 'filler'));
    const freedAt = Date.now();
    await until('storage to recover', async () => (await ready()).checks.storage, 120_000);
    const recoveredAfterFreeS = (Date.now() - freedAt) / 1000;
    await stop('SIGTERM');
    const appExits = exits - 1; // the SIGTERM just sent
    const journals = ['events.jsonl', 'unknowns.jsonl', 'mqtt-queue.jsonl'].map((f) => path.join(dataDir, f));
    const torn = tornLines(journals);
    await start();
    const kept = await history();
    const diskFull = {
      eventsBefore,
      eventsWhileFull: whileFull.length,
      liveRatio: eventsBefore ? whileFull.length / eventsBefore : NaN,
      readyzSaysFullAfterS,
      recoveredAfterFreeS,
      fullLogLines,
      appExits,
      tornLines: torn,
      keptAfterRecovery: `${whileFull.filter((id) => kept.has(id)).length} of ${whileFull.length}`,
    };
    o.say(
      `  disk full: ${diskFull.eventsWhileFull} live events in ${o.windowS} s while full vs ${eventsBefore} before (ratio ${diskFull.liveRatio.toFixed(2)}); /readyz said so after ${readyzSaysFullAfterS.toFixed(1)} s, recovered ${recoveredAfterFreeS.toFixed(1)} s after space was freed; ${fullLogLines} log line(s); ${appExits} unplanned exits; ${torn} torn lines; history kept ${diskFull.keptAfterRecovery}`,
    );

    // SIGKILL right after an event reached the subscriber.
    let received = 0;
    let missing = 0;
    for (let round = 0; round < o.killRounds; round++) {
      const mark = arrivals.length;
      await until('a live event', () => arrivals.length > mark, 180_000);
      await stop('SIGKILL');
      const got = arrivals.map((a) => a.id);
      await start();
      const h = await history();
      received = got.length;
      missing = got.filter((id) => !h.has(id)).length;
    }
    o.say(`  SIGKILL after a delivered event, ${o.killRounds} rounds: ${missing} of ${received} received events missing from /api/events`);
    return { diskFull, sigkill: { rounds: o.killRounds, received, missingFromHistory: missing } };
  } finally {
    const child = app as ChildProcess | null;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await sub.endAsync(true).catch(() => {});
    spawnSync('umount', ['-l', mountDir], { stdio: 'ignore' });
    rmSync(mountDir, { recursive: true, force: true });
  }
}
