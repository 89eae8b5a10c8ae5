/**
 * `facegate run` as systemd runs it: a real process with a config file, a file camera and mosquitto. Checks the
 * probes and metrics after a short run, then SIGTERM: exit 0, `offline` retained, ffmpeg children gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { writeApplianceConfig } from './appliance.js';
import { readFacebankFiles } from '../../src/store/facebank.js';

const ready = hasTestData && hasMosquitto;
const cli = path.join(repoRoot, 'dist', 'cli.js');

describe.skipIf(!ready)('facegate run (process)', () => {
  let dir: string;
  let broker: Mosquitto;
  let child: ChildProcess;
  let port: number;
  let logs = '';

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-run-'));
    broker = new Mosquitto();
    await broker.start();
    port = await freePort();
    await writeApplianceConfig(path.join(dir, 'config.yaml'), {
      dataDir: path.join(dir, 'data'),
      camera: true,
      mqtt: { url: broker.url, prefix: 'fgrun' },
      port,
    });
    const enrol = spawnSync(process.execPath, [
      cli,
      'enroll',
      'Lin-Manuel Miranda',
      dataPath('video', 'hamilton', 'lin-manuel-miranda.png'),
      '--data-dir',
      path.join(dir, 'data'),
    ]);
    if (enrol.status !== 0) throw new Error(`enroll failed: ${enrol.stderr.toString()}`);
    child = spawn(process.execPath, [cli, 'run', '--config', path.join(dir, 'config.yaml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: '' },
    });
    child.stderr!.on('data', (d) => (logs += d));
    child.stdout!.on('data', (d) => (logs += d));
    const end = Date.now() + 120_000;
    while (!logs.includes('facegate running')) {
      if (child.exitCode !== null) throw new Error(`facegate run exited early:\n${logs}`);
      if (Date.now() > end) throw new Error(`facegate run did not start:\n${logs}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await broker?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers the probes and exports metrics after a short run on a file camera', async () => {
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // Give the camera and the loop a few seconds of frames.
    let text = '';
    const end = Date.now() + 60_000;
    while (Date.now() < end) {
      text = await (await fetch(`${base}/metrics`)).text();
      if (/facegate_stage_seconds_count\{stage="tick"\} [1-9]/.test(text)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(text).toMatch(/facegate_stage_seconds_count\{stage="tick"\} [1-9]/);
    for (const stage of ['detect', 'align', 'embed', 'match', 'track'])
      expect(text).toMatch(new RegExp(`facegate_stage_seconds_count\\{stage="${stage}"\\} [1-9]`));
    expect(text).toMatch(/facegate_camera_fps\{camera="door"\}/);
    expect(text).toMatch(/facegate_execution_provider\{provider="cpu"\} 1/);
    // The default detector (auto) is YuNet-n: set-up obtained it (CI: from the FACEGATE_MODEL_MIRROR folder).
    expect(text).toMatch(/facegate_model_info\{role="detector",model="yunet:yunet-n@104ee26c71d5\+onet"\} 1/);
    expect(text).toMatch(/facegate_broker_connected 1/);
    const readyz = await fetch(`${base}/readyz`);
    expect(readyz.status).toBe(200);
    const ready = await readyz.json();
    expect(ready.cameras[0].camera).toBe('door');
    expect(ready.engine.detector).toBe('yunet:yunet-n@104ee26c71d5+onet');
    // The API is closed without a session or token.
    expect((await fetch(`${base}/api/people`)).status).toBe(401);
    // No secret or embedding in the logs.
    expect(logs).not.toMatch(/embedding":\s*\[/);
  }, 90_000);

  it('stops on SIGTERM: exit 0, offline retained, ffmpeg children killed, facebank intact', async () => {
    const pid = child.pid!;
    // This appliance's own ffmpeg children, by pid (a pattern would also match other tests' ffmpeg).
    const ffmpegs = spawnSync('pgrep', ['-P', String(pid), 'ffmpeg'])
      .stdout.toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
    expect(ffmpegs).toHaveLength(1);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const alive = (p: number) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(ffmpegs.filter(alive)).toEqual([]);
    const client = await mqtt.connectAsync(broker.url);
    const got = await new Promise<{ payload: string; retain: boolean }>((resolve) => {
      client.on('message', (_t, p, packet) => resolve({ payload: p.toString(), retain: packet.retain }));
      void client.subscribeAsync('fgrun/+/available'); // <prefix>/<applianceId>/available
    });
    await client.endAsync();
    expect(got).toEqual({ payload: 'offline', retain: true });
    const fb = await readFacebankFiles(path.join(dir, 'data'));
    expect(fb.people.map((p: { name: string }) => p.name)).toEqual(['Lin-Manuel Miranda']);
    expect(fb.samples).toHaveLength(1);
  }, 60_000);
});
