/**
 * `facegate run` against a real notify socket, as systemd runs it (Type=notify, WatchdogSec): READY=1 only once
 * the models, the broker (or its queue) and the cameras are up; WATCHDOG=1 only while the pipeline loop ticks
 * (a test hook hangs the loop's inference and the pings stop); STOPPING=1 on SIGTERM.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { dataPath, hasTestData } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { need } from '../helpers/prereqs.mjs';
import { bindNotifySocket, type NotifySocket } from '../helpers/notify-socket.js';
import { runAppliance, type RunningAppliance } from '../helpers/appliance.js';
import { freePort } from '../helpers/ports.js';

const ready = hasTestData && hasMosquitto && need('the systemd notify tests', 'python3');
const clip = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');
/** 3 s watchdog: pings every 1.5 s, and a loop that has not ticked for 3 s counts as hung. */
const WATCHDOG_USEC = 3_000_000;

describe.skipIf(!ready)('facegate run with a real NOTIFY_SOCKET', { timeout: 120_000 }, () => {
  let dir: string;
  let broker: Mosquitto;
  let app: RunningAppliance | null = null;
  let sock: NotifySocket | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-notify-'));
    broker = new Mosquitto();
    await broker.start();
  });
  afterEach(async () => {
    await app?.stop('SIGKILL');
    sock?.close();
    app = sock = null;
  });
  afterAll(async () => {
    await broker?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const config = (name: string, over: Record<string, unknown>) => ({
    dataDir: path.join(dir, name),
    mqtt: { url: broker.url, prefix: name },
    web: { enabled: false },
    pipeline: { fps: 5, frameWidth: 320 },
    ...over,
  });

  it('sends READY once models, broker and camera are up, WATCHDOG while the loop ticks, and no WATCHDOG once it hangs', async () => {
    sock = await bindNotifySocket(path.join(dir, 'wd.sock'));
    app = await runAppliance(dir, config('wd', { cameras: [{ name: 'door', url: clip, loop: true }], debug: { stallLoopAfterSeconds: 14 } }), {
      NOTIFY_SOCKET: path.join(dir, 'wd.sock'),
      WATCHDOG_USEC: String(WATCHDOG_USEC),
    });
    const [first] = await sock.next(1, 60_000);
    // The first datagram is READY, and it says what was up when it was sent.
    expect(first).toMatch(/^READY=1\nSTATUS=models loaded \(cpu\); broker connected; 1\/1 camera\(s\) online$/);
    // What READY claims was true: the camera logged online and the broker connected before it.
    const names = app.logs().map((l) => l.msg);
    expect(names).toContain('camera online');
    expect(names).toContain('MQTT connected');

    // The loop ticks: the watchdog is fed every 1.5 s.
    expect(await sock.next(2, 5000)).toEqual(['WATCHDOG=1', 'WATCHDOG=1']);

    // The hook hangs the loop's inference; within one watchdog period the pings stop, as systemd would notice.
    await app.waitForLog(/the pipeline loop hangs now/, 30_000);
    await new Promise((r) => setTimeout(r, WATCHDOG_USEC / 1000 + 1600)); // the hung limit plus one ping period
    sock.drain();
    await new Promise((r) => setTimeout(r, (2 * WATCHDOG_USEC) / 1000)); // four ping periods
    expect(sock.drain()).toEqual([]);
    expect(app.child.exitCode).toBeNull(); // alive, but wedged: only the watchdog can tell
  });

  it('READY waits for a camera that does not answer, reports the broker queue when it is down, and SIGTERM says STOPPING', async () => {
    // A camera source that accepts the connection and never sends a byte: READY waits until its first attempt
    // concludes (killed after staleAfterSeconds), and says it is offline.
    const mute = net.createServer(() => {});
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const mutePort = (mute.address() as AddressInfo).port;
    const nobody = await freePort();
    sock = await bindNotifySocket(path.join(dir, 'rd.sock'));
    app = await runAppliance(
      dir,
      config('rd', {
        cameras: [{ name: 'mute', url: `http://127.0.0.1:${mutePort}/stream.mjpg` }],
        pipeline: { fps: 5, frameWidth: 320, staleAfterSeconds: 8 },
        mqtt: { url: `mqtt://127.0.0.1:${nobody}`, prefix: 'rd' },
      }),
      { NOTIFY_SOCKET: path.join(dir, 'rd.sock') },
    );
    await app.waitForLog(/^facegate running$/, 60_000);
    const runningAt = Date.now();
    const [first] = await sock.next(1, 30_000);
    const readyAt = Date.now();
    expect(first).toBe('READY=1\nSTATUS=models loaded (cpu); broker unreachable, events queued; 0/1 camera(s) online');
    // Not before the camera's first attempt concluded: it was killed for sending nothing for 8 s.
    expect(app.logs().some((l) => l.camera === 'mute' && /no frame for 8 s/.test(String(l.msg)))).toBe(true);
    expect(readyAt - runningAt).toBeGreaterThan(6000);
    expect(await app.stop('SIGTERM')).toBe(0);
    expect(await sock.next(1, 5000)).toEqual(['STOPPING=1']);
    mute.close();
  });
});
