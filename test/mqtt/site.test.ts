/**
 * One site, many boxes (issue 22 item 5): boxes sharing a prefix keep their own availability and camera status, a
 * killed box's cameras read offline, and two clients fighting over one client id are recognised.
 * The SIGKILL test runs the built publisher (dist/) in a child process: `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { Slot } from '../../src/app/unit.js';
import type { Identity } from '../../src/app/units/identity.js';
import { mqttUnit } from '../../src/app/units/mqtt.js';
import { Bus } from '../../src/events/bus.js';
import type { Camera } from '../../src/ingest/camera.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { EmbeddedBroker } from '../../src/mqtt/broker.js';
import { MqttPublisher } from '../../src/mqtt/publisher.js';
import { killAndWait } from '../../src/util/child.js';
import { repoRoot } from '../helpers/data.js';
import { Mosquitto, hasMosquitto } from '../helpers/mosquitto.js';
import { captureLogger, waitFor } from '../ingest/util.js';
import { mqttConfig, status, subscriber, type Received } from './util.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function box(url: string, applianceId: string, over: Record<string, unknown> = {}, cameras: string[] = []) {
  const bus = new Bus();
  const { log, lines } = captureLogger();
  const config = mqttConfig({ url, ...over });
  const pub = new MqttPublisher({ config, bus, applianceId, log, cameraStatus: () => cameras.map((c) => status(c)), reconnectPeriodMs: 300 });
  cleanups.push(() => pub.stop());
  return { bus, pub, lines };
}

/** Polls an async condition. */
async function eventually(pred: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until every retained message under `filter` arrived (a marker published after subscribing ends them). */
async function retainedUnder(url: string, filter: string): Promise<Received[]> {
  const s = await subscriber(url, filter);
  cleanups.push(() => s.client.endAsync(true));
  const marker = `${filter.replace(/[#+]/g, 'x')}/marker-${Math.random().toString(36).slice(2)}`;
  await s.client.subscribeAsync(marker, { qos: 1 });
  await s.client.publishAsync(marker, 'end', { qos: 1 });
  await waitFor(() => s.got.some((m) => m.topic === marker), 5000, 'the marker');
  return s.got.filter((m) => m.retain && m.payload !== '');
}

describe.skipIf(!hasMosquitto)('one site, many boxes', { timeout: 60_000 }, () => {
  const broker = new Mosquitto();
  beforeAll(() => broker.start());
  afterAll(() => broker.dispose());

  it('two boxes on one prefix with a camera of the same name keep their own availability and status; one stopping leaves the other online', async () => {
    const a = box(broker.url, 'box-a', { prefix: 's1' });
    const b = box(broker.url, 'box-b', { prefix: 's1' });
    a.pub.start();
    b.pub.start();
    await waitFor(() => a.pub.stats.connected && b.pub.stats.connected, 5000, 'both connected');
    // Different default client ids: neither takes the other's connection.
    expect(a.pub.clientId).toBe('facegate-box-a');
    expect(b.pub.clientId).toBe('facegate-box-b');
    a.bus.emit('cameraStatus', { ...status('door'), fps: 5 });
    b.bus.emit('cameraStatus', { ...status('door'), fps: 3 });
    await eventually(async () => (await retainedUnder(broker.url, 's1/+/cameras/door/status')).length === 2, 5000, 'two statuses');
    const statuses = await retainedUnder(broker.url, 's1/+/cameras/door/status');
    expect(Object.fromEntries(statuses.map((m) => [m.topic, JSON.parse(m.payload).fps]))).toEqual({
      's1/box-a/cameras/door/status': 5,
      's1/box-b/cameras/door/status': 3,
    });

    await a.pub.stop();
    const avail = await retainedUnder(broker.url, 's1/+/available');
    expect(Object.fromEntries(avail.map((m) => [m.topic, m.payload]))).toEqual({ 's1/box-a/available': 'offline', 's1/box-b/available': 'online' });
    // A graceful stop also says each camera of that box is offline.
    const doors = await retainedUnder(broker.url, 's1/+/cameras/door/status');
    expect(Object.fromEntries(doors.map((m) => [m.topic, JSON.parse(m.payload).state]))).toEqual({
      's1/box-a/cameras/door/status': 'offline',
      's1/box-b/cameras/door/status': 'online',
    });
    expect(b.pub.stats.takenOver).toBe(0);
  });

  it('two boxes configured with one client id: the take-over is recognised, logged once with the fix, and counted', async () => {
    const a = box(broker.url, 'box-a', { prefix: 's2', clientId: 'facegate.lab' });
    const b = box(broker.url, 'box-b', { prefix: 's2', clientId: 'facegate.lab' });
    a.pub.start();
    await waitFor(() => a.pub.stats.connected, 5000, 'first box connected');
    b.pub.start();
    // Each connect of one closes the other's session, every reconnect period.
    await waitFor(() => a.pub.stats.takenOver + b.pub.stats.takenOver >= 3, 30_000, 'take-overs counted');
    const logged = (lines: Record<string, unknown>[]) => lines.some((l) => l.level === 50);
    await waitFor(() => logged(a.lines) && logged(b.lines), 30_000, 'the error line of each box');
    const errors = [...a.lines, ...b.lines].filter((l) => l.level === 50);
    for (const e of errors) {
      expect(e.msg).toMatch(/another client uses the same client id "facegate\.lab"/);
      expect(e.msg).toMatch(/give each appliance its own mqtt\.clientId, or remove mqtt\.clientId/);
    }
    // Once per box, however long the fight goes on.
    const before = errors.length;
    const counted = a.pub.stats.takenOver + b.pub.stats.takenOver;
    await waitFor(() => a.pub.stats.takenOver + b.pub.stats.takenOver >= counted + 2, 30_000, 'more take-overs');
    expect([...a.lines, ...b.lines].filter((l) => l.level === 50).length).toBe(before);
    expect(before).toBe(2);
  });

  it("the appliance's metrics count take-overs (the MQTT unit with its default client id facegate-<applianceId>)", async () => {
    const identity = new Slot<Identity>('appliance identity');
    identity.set({ applianceId: 'metered' });
    const metrics = new Metrics({ processMetrics: false });
    const publisher = new Slot<MqttPublisher>('MQTT transport');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-site-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const unit = mqttUnit(
      { mqtt: mqttConfig({ url: broker.url, prefix: 's7' }), dataDir: dir },
      { bus: new Bus(), log: captureLogger().log, metrics, broker: new Slot<EmbeddedBroker>('broker'), cameras: new Slot<Camera[]>('cameras'), identity },
      publisher,
    );
    await unit.start();
    cleanups.push(() => unit.stop());
    expect(publisher.get().clientId).toBe('facegate-metered');
    // Another client with the same id, reconnecting as fast as the appliance does.
    const rival = mqtt.connect(broker.url, { clientId: 'facegate-metered', reconnectPeriod: 300 });
    cleanups.push(() => rival.endAsync(true));
    const counted = async () => Number(/^facegate_mqtt_session_taken_over_total (\d+)/m.exec(await metrics.registry.metrics())?.[1] ?? 0);
    await eventually(async () => (await counted()) >= 3, 30_000, 'take-overs in /metrics');
  });

  it('two boxes claiming one appliance id (with different client ids) are both told so, once', async () => {
    const a = box(broker.url, 'same-id', { prefix: 's5', clientId: 'client-a' });
    const b = box(broker.url, 'same-id', { prefix: 's5', clientId: 'client-b' });
    a.pub.start();
    await waitFor(() => a.pub.stats.connected, 5000, 'first box connected');
    b.pub.start();
    const errorsOf = (lines: Record<string, unknown>[]) => lines.filter((l) => l.level === 50);
    await waitFor(() => errorsOf(a.lines).length > 0 && errorsOf(b.lines).length > 0, 10_000, 'both boxes told');
    expect(errorsOf(a.lines)[0]).toMatchObject({ appliance: 'same-id', other: 'client-b' });
    expect(errorsOf(b.lines)[0]).toMatchObject({ appliance: 'same-id', other: 'client-a' });
    expect(String(errorsOf(a.lines)[0]!.msg)).toMatch(/another appliance on this broker uses the appliance id "same-id".*remove sync\.applianceId/);
    expect(a.pub.stats.idConflicts).toBeGreaterThanOrEqual(1);
    expect(b.pub.stats.idConflicts).toBeGreaterThanOrEqual(1);
    // Not a client-id fight: neither connection was taken.
    expect(a.pub.stats.takenOver + b.pub.stats.takenOver).toBe(0);
    // A box alone with its id hears only itself.
    const c = box(broker.url, 'lonely', { prefix: 's5' });
    c.pub.start();
    await waitFor(() => c.pub.stats.connected, 5000, 'third box connected');
    await new Promise((r) => setTimeout(r, 500));
    expect(c.pub.stats.idConflicts).toBe(0);
    expect(errorsOf(a.lines)).toHaveLength(1);
  });

  it('after an upgrade, the retained topics of the shared layout (<prefix>/available, <prefix>/<camera>/status) are emptied once', async () => {
    const old = await mqtt.connectAsync(broker.url);
    for (const [t, p] of [
      ['s6/available', 'online'],
      ['s6/door/status', JSON.stringify({ camera: 'door', state: 'online', fps: 4.9 })],
      ['s6/door/faces', '1'],
    ])
      await old.publishAsync(t!, p!, { qos: 1, retain: true });
    await old.endAsync();
    // As in the appliance, the cameras start after the connection: the camera's old topics go with its first status.
    const a = box(broker.url, 'box-a', { prefix: 's6' });
    a.pub.start();
    await waitFor(() => a.pub.stats.connected, 5000, 'connected');
    a.bus.emit('cameraStatus', status('door'));
    const old3 = ['s6/available', 's6/door/status', 's6/door/faces'];
    await eventually(async () => !(await retainedUnder(broker.url, 's6/#')).some((m) => old3.includes(m.topic)), 5000, 'the old topics emptied');
    expect((await retainedUnder(broker.url, 's6/#')).map((m) => m.topic).sort()).toEqual(['s6/box-a/available', 's6/box-a/cameras/door/status']);
  });

  it('a normal reconnect (the broker restarting) is not taken for a take-over', async () => {
    const own = new Mosquitto();
    cleanups.push(() => own.dispose());
    await own.start();
    const a = box(own.url, 'box-a', { prefix: 's3' });
    a.pub.start();
    await waitFor(() => a.pub.stats.connected, 5000, 'connected');
    await new Promise((r) => setTimeout(r, 5200)); // a session longer than a take-over's
    await own.restart();
    await waitFor(() => a.pub.stats.connected, 10_000, 'connected again');
    expect(a.pub.stats.takenOver).toBe(0);
    expect(a.lines.filter((l) => l.level === 50)).toEqual([]);
  });

  const built = existsSync(path.join(repoRoot, 'dist', 'mqtt', 'publisher.js'));
  it.skipIf(!built)("after a SIGKILL, the box's availability and every camera's retained status say offline (last wills)", async () => {
    const child = publisherProcess(broker.url, 's4', 'killed-box', ['door', 'yard']);
    cleanups.push(() => killAndWait(child));
    await waitFor(() => stdout(child).includes('ready'), 15_000, 'the child publisher connected');
    const before = await retainedUnder(broker.url, 's4/killed-box/#');
    const statuses = before.filter((m) => m.topic.endsWith('/status')).map((m) => JSON.parse(m.payload) as { camera: string });
    expect(statuses.sort((x, y) => x.camera.localeCompare(y.camera))).toEqual([
      expect.objectContaining({ camera: 'door', state: 'online', fps: 4.9 }),
      expect.objectContaining({ camera: 'yard', state: 'online', fps: 4.9 }),
    ]);

    await killAndWait(child, 'SIGKILL');
    await eventually(
      async () => (await retainedUnder(broker.url, 's4/killed-box/#')).every((m) => m.payload === 'offline' || JSON.parse(m.payload).state === 'offline'),
      10_000,
      'every retained state offline',
    );
    const after = await retainedUnder(broker.url, 's4/killed-box/#');
    expect(Object.fromEntries(after.map((m) => [m.topic, m.topic.endsWith('/available') ? m.payload : JSON.parse(m.payload).fps]))).toEqual({
      's4/killed-box/available': 'offline',
      's4/killed-box/cameras/door/status': 0,
      's4/killed-box/cameras/yard/status': 0,
    });
  });
});

/** The built MqttPublisher in a process of its own, with cameras online at 4.9 fps; prints "ready" once every connection is up. */
function publisherProcess(url: string, prefix: string, applianceId: string, cameras: string[]): ChildProcess {
  const script = `
    const { MqttPublisher } = await import(${JSON.stringify(path.join(repoRoot, 'dist/mqtt/publisher.js'))});
    const { Bus } = await import(${JSON.stringify(path.join(repoRoot, 'dist/events/bus.js'))});
    const { mqttSchema } = await import(${JSON.stringify(path.join(repoRoot, 'dist/config/schema.js'))});
    const cameras = ${JSON.stringify(cameras)}.map((camera) => ({ camera, state: 'online', fps: 4.9, lastFrameTime: new Date().toISOString(), restarts: 0, framesDropped: 0, lastError: null }));
    const pub = new MqttPublisher({ config: mqttSchema.parse({ url: ${JSON.stringify(url)}, prefix: ${JSON.stringify(prefix)} }), bus: new Bus(), applianceId: ${JSON.stringify(applianceId)}, cameraStatus: () => cameras });
    pub.start();
    const up = () => pub.stats.connected && pub.wills.clients.size === cameras.length && [...pub.wills.clients.values()].every((c) => c.connected);
    const t = setInterval(() => { if (up()) { clearInterval(t); setTimeout(() => console.log('ready'), 300); } }, 50);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  outputs.set(child, () => out);
  return child;
}

const outputs = new WeakMap<ChildProcess, () => string>();
const stdout = (c: ChildProcess) => outputs.get(c)?.() ?? '';
