/**
 * Start-up as units (src/app): a failing optional unit is logged and the others run; units stop in reverse order
 * and really release what they held; a failing required unit stops start-up and undoes what had started.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startAppliance, type Appliance } from '../src/app/appliance.js';
import { configSchema, type Config } from '../src/config/schema.js';
import { socketPath } from '../src/local/api.js';
import { Facebank } from '../src/store/facebank.js';
import { createLogger } from '../src/util/log.js';
import { repoRoot } from './helpers/data.js';
import { subscriber } from './mqtt/util.js';
import { freePort } from './helpers/ports.js';

type Line = Record<string, unknown> & { msg: string; unit?: string };

/** A debug logger whose JSON lines the test reads back (`onLine` sees each as it is written). */
function capture(onLine: (line: Line) => void = () => {}) {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) {
        if (!l.startsWith('{')) continue;
        lines.push(JSON.parse(l) as Line);
        onLine(lines[lines.length - 1]!);
      }
      done();
    },
  });
  return { log: createLogger('debug', sink), lines };
}

const dirs: string[] = [];
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function config(over: Record<string, unknown>): Promise<Config> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-units-'));
  dirs.push(dataDir);
  return configSchema.parse({
    dataDir,
    engine: { enginesDir: path.join(repoRoot, 'engines'), workers: 1 },
    mqtt: { embedded: { host: '127.0.0.1', port: await freePort() }, prefix: 'units' },
    ...over,
  });
}

/** Resolves true when something accepts a TCP connection on the port. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('start-up as units', () => {
  it('runs without the admin page when its port is taken, then stops every unit in reverse', async () => {
    // Another program already holds the admin page's port.
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => taken.close(r)));
    const port = (taken.address() as net.AddressInfo).port;
    const c = await config({ web: { host: '127.0.0.1', port, https: 'off' } });
    const { log, lines } = capture();

    const app: Appliance = await startAppliance(c, { log });
    let stopped = false;
    closers.push(async () => stopped || app.stop());

    // The failure is one error line naming the unit and why, and the page is reported as not running...
    const failed = lines.filter((l) => l.level === 50);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ unit: 'admin page', msg: 'admin page not started' });
    expect(String(failed[0]!.err)).toContain(`127.0.0.1:${port} (EADDRINUSE)`);
    expect(app.webAddress).toBeNull();
    expect(app.units).not.toContain('admin page');
    // ...while the rest runs: the transport reaches the embedded broker, the loop ticks, the CLI socket is there.
    expect(app.units).toEqual([
      'data dir',
      'appliance identity',
      'metrics',
      'facebank',
      'enrolment',
      'engine',
      'admin account',
      'local API',
      'event stores',
      'embedded MQTT broker',
      'mqtt',
      'cameras',
      'pipeline',
    ]);
    await until('the broker connection', () => app.publisher.stats.connected, 10_000);
    expect(existsSync(socketPath(c.dataDir))).toBe(true);
    const brokerPort = c.mqtt.embedded.port;
    expect(await accepts(brokerPort)).toBe(true);

    await app.stop();
    stopped = true;
    const order = (msg: string) => lines.filter((l) => l.msg === msg).map((l) => l.unit);
    expect(order('unit started')).toEqual(app.units);
    expect(order('unit stopped')).toEqual([...app.units].reverse());
    // Stopped for real: the broker's port is closed, the CLI socket removed, the facebank free for another writer.
    expect(await accepts(brokerPort)).toBe(false);
    expect(existsSync(socketPath(c.dataDir))).toBe(false);
    const fb = new Facebank(c.dataDir, { role: 'run', lockWaitMs: 0 });
    await fb.open();
    await fb.close();
  }, 120_000);

  it('Home Assistant is its own unit: discovery for the enabled cameras (none for a disabled one), and for a person as soon as they are enrolled', async () => {
    const c = await config({
      web: { enabled: false },
      mqtt: { embedded: { host: '127.0.0.1', port: await freePort() }, prefix: 'units', homeAssistant: { enabled: true, discoveryPrefix: 'hau' } },
      cameras: [
        { name: 'porch', url: 'rtsp://127.0.0.1:9/none' },
        { name: 'attic', url: 'rtsp://127.0.0.1:9/none', enabled: false },
      ],
    });
    const app = await startAppliance(c, { log: capture().log });
    closers.push(() => app.stop());
    expect(app.units.indexOf('home assistant')).toBe(app.units.indexOf('mqtt') + 1);
    const sub = await subscriber(app.mqttUrl, 'hau/#');
    closers.push(() => sub.client.endAsync(true));
    await until('the camera face-count config', () => sub.got.some((m) => m.topic.startsWith('hau/sensor/') && m.topic.includes('porch')), 10_000);
    expect(sub.got.some((m) => m.topic.startsWith('hau/binary_sensor/'))).toBe(false);
    expect(sub.got.some((m) => m.topic.includes('attic') && m.payload !== '')).toBe(false);

    const ann = await app.facebank.createPerson('Ann');
    await until("Ann's presence config", () => sub.got.some((m) => m.topic.startsWith('hau/binary_sensor/') && m.topic.includes(ann.id)), 10_000);
    const cfg = JSON.parse(sub.got.find((m) => m.topic.includes(ann.id))!.payload) as { name: string };
    expect(cfg.name).toContain('Ann');
  }, 120_000);

  it('one appliance id without configuration: the install id in appliance.json names the client, the topics and the sync', async () => {
    const c = await config({ web: { enabled: false }, sync: { enabled: true, allowPlaintext: true } });
    const { log, lines } = capture();
    const app = await startAppliance(c, { log });
    closers.push(() => app.stop());
    const { id } = JSON.parse(await readFile(path.join(c.dataDir, 'appliance.json'), 'utf8')) as { id: string };
    expect(id).toMatch(/^[a-z0-9-]+-[0-9a-f]{6}$/);
    expect(app.publisher.clientId).toBe(`facegate-${id}`);
    expect(lines.find((l) => l.msg === 'facebank sync started')).toMatchObject({ appliance: id });
    const sub = await subscriber(app.mqttUrl, 'units/+/available');
    closers.push(() => sub.client.endAsync(true));
    await until('the availability', () => sub.got.length > 0, 10_000);
    expect(sub.got[0]).toMatchObject({ topic: `units/${id}/available`, payload: 'online' });
  }, 120_000);

  it('stops start-up when a required unit fails, undoing the units already started', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'facegate-no-engines-'));
    dirs.push(empty);
    const c = await config({ engine: { enginesDir: empty, workers: 1 }, web: { enabled: false } });
    const { log, lines } = capture();

    await expect(startAppliance(c, { log })).rejects.toThrow();
    // The units before the engine started and were stopped again, last first; nothing after it started.
    const order = (msg: string) => lines.filter((l) => l.msg === msg).map((l) => l.unit);
    expect(order('unit started')).toEqual(['data dir', 'appliance identity', 'metrics', 'facebank', 'enrolment']);
    expect(order('unit stopped')).toEqual(['enrolment', 'facebank', 'metrics', 'appliance identity', 'data dir']);
    expect(await accepts(c.mqtt.embedded.port)).toBe(false);
    const fb = new Facebank(c.dataDir, { role: 'run', lockWaitMs: 0 });
    await fb.open();
    await fb.close();
  }, 60_000);

  it('an abort between units ends start-up with "aborted" and stops what started', async () => {
    const c = await config({ web: { enabled: false } });
    const abort = new AbortController();
    // A stop requested the moment the facebank is open: the engine never loads.
    const { log, lines } = capture((l) => l.msg === 'unit started' && l.unit === 'facebank' && abort.abort());
    await expect(startAppliance(c, { log, signal: abort.signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(lines.some((l) => l.msg === 'models loaded')).toBe(false);
    expect(lines.filter((l) => l.msg === 'unit stopped').map((l) => l.unit)).toEqual(['facebank', 'metrics', 'appliance identity', 'data dir']);
  }, 60_000);
});
