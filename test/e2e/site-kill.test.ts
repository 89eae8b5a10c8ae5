/**
 * One box of a site, SIGKILLed (issue 22 item 5): `facegate run` as a real process with a file camera and mosquitto.
 * While it runs, its retained state is under <prefix>/<applianceId>/; after a SIGKILL the broker's last wills say the
 * box and its camera are offline (no retained "online, fps 4.9" left); started again on the same data directory it
 * keeps its appliance id. Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { hasTestData, repoRoot } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { writeApplianceConfig } from './appliance.js';

const ready = hasTestData && hasMosquitto;
const cli = path.join(repoRoot, 'dist', 'cli.js');

/** Every retained message under `filter` now (a marker published after subscribing ends the wait). */
async function retained(url: string, filter: string): Promise<Map<string, string>> {
  const c = await mqtt.connectAsync(url);
  const got = new Map<string, string>();
  const marker = `marker/${Math.random().toString(36).slice(2)}`;
  let done: () => void;
  const ended = new Promise<void>((r) => (done = r));
  c.on('message', (t, p, packet) => (t === marker ? done() : packet.retain && p.length && got.set(t, p.toString())));
  await c.subscribeAsync([filter, marker], { qos: 1 });
  await c.publishAsync(marker, 'end', { qos: 1 });
  await ended;
  await c.endAsync(true);
  return got;
}

async function until(what: string, ok: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!ready)('a box of the site SIGKILLed (facegate run)', () => {
  let dir: string;
  let broker: Mosquitto;
  const children: ChildProcess[] = [];

  function run(): { child: ChildProcess; logs: () => string } {
    let logs = '';
    const child = spawn(process.execPath, [cli, 'run', '--config', path.join(dir, 'config.yaml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NOTIFY_SOCKET: '' },
    });
    children.push(child);
    child.stderr!.on('data', (d) => (logs += d));
    child.stdout!.on('data', (d) => (logs += d));
    return { child, logs: () => logs };
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-sitekill-'));
    broker = new Mosquitto();
    await broker.start();
    await writeApplianceConfig(path.join(dir, 'config.yaml'), {
      dataDir: path.join(dir, 'data'),
      camera: true,
      mqtt: { url: broker.url, prefix: 'site' },
      port: await freePort(),
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await broker?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('after a SIGKILL the box and its camera read offline; restarted, it keeps its id and comes back online', async () => {
    const first = run();
    await until(
      'the camera online with frames',
      async () => {
        const s = await retained(broker.url, 'site/+/cameras/door/status');
        return [...s.values()].some((p) => (JSON.parse(p) as { state: string; fps: number }).state === 'online' && (JSON.parse(p) as { fps: number }).fps > 0);
      },
      120_000,
    );
    const { id } = JSON.parse(await readFile(path.join(dir, 'data', 'appliance.json'), 'utf8')) as { id: string };
    const before = await retained(broker.url, 'site/#');
    expect(before.get(`site/${id}/available`)).toBe('online');
    expect(JSON.parse(before.get(`site/${id}/cameras/door/status`)!)).toMatchObject({ camera: 'door', state: 'online' });

    // Its ffmpeg child would outlive it: note it to end it after the kill.
    const ffmpegs = spawnSync('pgrep', ['-P', String(first.child.pid), 'ffmpeg'])
      .stdout.toString()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    for (const p of ffmpegs) spawnSync('kill', ['-9', String(p)]);

    await until(
      'the last wills',
      async () => {
        const s = await retained(broker.url, `site/${id}/#`);
        return (
          s.get(`site/${id}/available`) === 'offline' && (JSON.parse(s.get(`site/${id}/cameras/door/status`) ?? '{}') as { state?: string }).state === 'offline'
        );
      },
      15_000,
    );
    const after = await retained(broker.url, `site/${id}/#`);
    expect(JSON.parse(after.get(`site/${id}/cameras/door/status`)!)).toMatchObject({ camera: 'door', state: 'offline', fps: 0 });

    // Started again on the same data directory: the same id, online again.
    const second = run();
    await until('the box back online', async () => (await retained(broker.url, `site/${id}/available`)).get(`site/${id}/available`) === 'online', 120_000);
    expect(JSON.parse(await readFile(path.join(dir, 'data', 'appliance.json'), 'utf8'))).toMatchObject({ id });
    expect(second.logs()).not.toMatch(/looks copied/);
    const exitedAgain = new Promise((r) => second.child.once('exit', r));
    second.child.kill('SIGTERM');
    await exitedAgain;
  }, 300_000);
});
