/**
 * Facebank sync with real parts: two `facegate run` processes with their own data folders, one real mosquitto
 * (with persistence), the site key from FACEGATE_SYNC_KEY. Enrol, rename and delete on A reach B; B catches up
 * after being offline; a rename whose sync-state write a SIGKILL prevented still reaches B; concurrent renames with
 * the broker away converge after it returns; nothing on the broker is in clear; tampered records and records sealed
 * with another key are refused and counted; a box W with the wrong key, joining and restarted, says so (log, API,
 * /metrics, people list) and publishes nothing, the site's records untouched; a record of A tampered with on the
 * broker is repaired by A while it stays connected; B's People page (Chromium) shows origins and the sync state;
 * after the broker is replaced by one with no retained state, A and B republish and a third appliance C converges.
 */
import { randomBytes } from 'node:crypto';
import { launchChromium } from '../helpers/chromium.js';
import mqtt from 'mqtt';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, seal } from '../../src/sync/envelope.js';
import { syncTopic } from '../../src/sync/topics.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { need } from '../helpers/prereqs.mjs';
import { subscriber, type Received } from '../mqtt/util.js';
import { AdminClient, ApplianceProcess, requireBuild, runCli, writeApplianceConfig } from './appliance.js';
import { readFacebankFiles } from '../../src/store/facebank.js';

const hasChromium = need('the People page check of facebank sync', 'chromium');
const LIN = 'Lin-Manuel Miranda';
const PASSWORD = 'a long enough password';
const PREFIX = 'site';
type PersonJson = { id: string; name: string; samples: number; origin?: string };

async function until(pred: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasTestData || !hasMosquitto || !hasChromium)('facebank sync between appliances', { timeout: 600_000 }, () => {
  let dir: string;
  const key = randomBytes(32);
  const broker = new Mosquitto({ persistence: true });
  type Box = 'a' | 'b' | 'c' | 'w';
  const nodes: Partial<Record<Box, { app: ApplianceProcess; web: AdminClient; port: number }>> = {};
  const node = (n: Box) => nodes[n]!;
  let amnesiac: Mosquitto | null = null;
  const onBroker: Received[] = [];
  let watcher: Awaited<ReturnType<typeof subscriber>> | null = null;

  const people = async (n: Box): Promise<PersonJson[]> => {
    const res = await node(n).web.req('GET', '/api/people');
    return ((await res.json()) as { people: PersonJson[] }).people;
  };
  const metric = async (n: Box, state: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${node(n).port}/metrics`)).text();
    const m = new RegExp(`^facegate_sync_records\\{state="${state}"\\} (\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  /** The retained sync records on the broker now: a marker published after subscribing comes back behind them. */
  const retainedRecords = async (): Promise<Map<string, Buffer>> => {
    const client = await mqtt.connectAsync(broker.url);
    const got = new Map<string, Buffer>();
    const marker = `${PREFIX}/marker/${randomBytes(4).toString('hex')}`;
    const done = new Promise<void>((resolve) =>
      client.on('message', (topic, payload) => (topic === marker ? resolve() : payload.length > 0 && void got.set(topic, payload))),
    );
    await client.subscribeAsync([`${PREFIX}/facebank/+/+`, marker], { qos: 1 });
    await client.publishAsync(marker, 'x', { qos: 1 });
    await done;
    await client.endAsync();
    return got;
  };

  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-sync-'));
    await broker.start();
    watcher = await subscriber(broker.url, `${PREFIX}/#`, {}, onBroker);
    for (const n of ['a', 'b'] as const) await launch(n);
  });
  afterAll(async () => {
    for (const n of ['a', 'b', 'c', 'w'] as const) await nodes[n]?.app.stop('SIGKILL');
    await watcher?.client.endAsync();
    await broker.dispose();
    await amnesiac?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Writes box n's config (B has a file camera; `extra` goes into its sync section). */
  async function writeConfig(n: Box, port: number, sync: Record<string, unknown> = {}): Promise<void> {
    await writeApplianceConfig(path.join(dir, `${n}.yaml`), {
      dataDir: path.join(dir, n),
      camera: n === 'b',
      mqtt: { url: broker.url, prefix: PREFIX, clientId: `box-${n}` },
      port,
      more: { sync: { enabled: true, applianceId: `box-${n}`, ...sync } },
    });
  }

  async function launch(n: Box, siteKey = key): Promise<void> {
    const port = await freePort();
    await writeConfig(n, port);
    const app = new ApplianceProcess(path.join(dir, `${n}.yaml`), { FACEGATE_LOG_LEVEL: 'info', FACEGATE_SYNC_KEY: siteKey.toString('base64') });
    await app.start();
    const web = new AdminClient(`http://127.0.0.1:${port}`);
    await web.setup(PASSWORD, app.claimCode());
    nodes[n] = { app, web, port };
  }

  it('enrol on A through the API: B has the person and names them in its own camera', async () => {
    const events: Received[] = [];
    const sub = await subscriber(broker.url, `${PREFIX}/door/events`, {}, events);
    const created = (await (await node('a').web.req('POST', '/api/people', { name: LIN })).json()) as { id: string };
    const up = await node('a').web.upload(created.id, [dataPath('video', 'hamilton', 'lin-manuel-miranda.png')]);
    expect(up.ok).toBe(true);
    await until(
      async () => (await people('b')).some((p) => p.id === created.id && p.name === LIN && p.samples === 1),
      30_000,
      'B to have the person and the sample',
    );
    const onB = (await people('b')).find((p) => p.id === created.id)!;
    expect(onB.origin).toBe('box-a');
    await until(() => events.some((e) => e.payload.includes(LIN)), 120_000, "B's camera to name the person");
    await sub.client.endAsync();
    expect(await metric('b', 'applied')).toBeGreaterThanOrEqual(2);
  });

  it('nothing of a face is in clear on the broker', () => {
    const records = onBroker.filter((m) => m.topic.startsWith(`${PREFIX}/facebank/`) && m.payload.length > 0);
    expect(records.length).toBeGreaterThanOrEqual(2);
    for (const m of records) {
      expect(m.payload.startsWith('FGS1')).toBe(true);
      expect(m.payload).not.toContain('embedding');
      expect(m.payload).not.toContain(LIN);
    }
  });

  it('rename and delete on A: B follows', async () => {
    const p = (await (await node('a').web.req('POST', '/api/people', { name: 'Temp Person' })).json()) as { id: string };
    await until(async () => (await people('b')).some((x) => x.id === p.id), 30_000, 'B to have Temp Person');
    expect((await node('a').web.req('PATCH', `/api/people/${p.id}`, { name: 'Renamed Person' })).ok).toBe(true);
    await until(async () => (await people('b')).some((x) => x.id === p.id && x.name === 'Renamed Person'), 30_000, 'B to follow the rename');
    expect((await node('a').web.req('DELETE', `/api/people/${p.id}`)).ok).toBe(true);
    await until(async () => !(await people('b')).some((x) => x.id === p.id), 30_000, 'B to follow the delete');
  });

  it('B offline during changes catches up when it returns', async () => {
    expect(await node('b').app.stop('SIGTERM')).toBe(0);
    const p = (await (await node('a').web.req('POST', '/api/people', { name: 'While Away' })).json()) as { id: string };
    await node('a').web.req('PATCH', `/api/people/${p.id}`, { name: 'While Away Renamed' });
    await node('b').app.start();
    await until(async () => (await people('b')).some((x) => x.id === p.id && x.name === 'While Away Renamed'), 30_000, 'B to catch up');
  });

  it('a SIGKILL between the facebank save and the sync-state write loses no rename: A publishes it at its next start', async () => {
    const p = (await (await node('a').web.req('POST', '/api/people', { name: 'Before Crash' })).json()) as { id: string };
    await until(async () => (await people('b')).some((x) => x.id === p.id), 30_000, 'B to have Before Crash');
    await until(async () => (await metric('a', 'pending')) === 0, 30_000, 'A to have published everything');
    const a = node('a');
    expect(await a.app.stop('SIGTERM')).toBe(0);
    await writeConfig('a', a.port, { crashBeforeStateWrite: true });
    await a.app.start();
    // The rename is saved in the facebank, then the process kills itself before the sync state notes it.
    await a.web.req('PATCH', `/api/people/${p.id}`, { name: 'After Crash' }).catch(() => null);
    await until(() => a.app.child?.signalCode === 'SIGKILL', 30_000, 'A to die at the hook');
    expect((await readFacebankFiles(path.join(dir, 'a'))).people.map((x) => x.name)).toContain('After Crash');
    expect((await people('b')).find((x) => x.id === p.id)?.name).toBe('Before Crash');
    await writeConfig('a', a.port);
    await a.app.start();
    await until(async () => (await people('b')).some((x) => x.id === p.id && x.name === 'After Crash'), 30_000, 'B to receive the rename A crashed on');
    expect((await people('a')).find((x) => x.id === p.id)?.name).toBe('After Crash');
  });

  it('concurrent renames on A and B with the broker restarting in between end in the same state', async () => {
    const p = (await (await node('a').web.req('POST', '/api/people', { name: 'Contested' })).json()) as { id: string };
    await until(async () => (await people('b')).some((x) => x.id === p.id), 30_000, 'B to have Contested');
    await until(async () => (await metric('a', 'pending')) === 0, 30_000, 'A to have published everything');
    await broker.stop(true);
    expect((await node('a').web.req('PATCH', `/api/people/${p.id}`, { name: 'Name From A' })).ok).toBe(true);
    expect((await node('b').web.req('PATCH', `/api/people/${p.id}`, { name: 'Name From B' })).ok).toBe(true);
    expect(await metric('a', 'pending')).toBe(1);
    expect(await metric('b', 'pending')).toBe(1);
    await broker.start();
    const nameOn = async (n: 'a' | 'b') => (await people(n)).find((x) => x.id === p.id)?.name;
    await until(async () => (await metric('a', 'pending')) === 0 && (await metric('b', 'pending')) === 0, 30_000, 'both to publish their rename');
    await until(async () => (await nameOn('a')) === (await nameOn('b')), 30_000, 'the names to converge');
    expect(['Name From A', 'Name From B']).toContain(await nameOn('a'));
    // Everyone else enrolled earlier survived the broker restart too.
    expect((await people('b')).some((x) => x.name === LIN)).toBe(true);
  });

  it('a tampered record and one sealed with another key are refused and counted', async () => {
    const before = await metric('b', 'refused');
    const pub = await subscriber(broker.url, `${PREFIX}/nothing`);
    const body = Buffer.from(
      JSON.stringify({ kind: 'person', id: 'intruder-1', version: '000000000000001-000000-x', origin: 'x', deleted: false, name: 'Intruder', created: 'now' }),
    );
    const t1 = syncTopic(PREFIX, 'person', 'intruder-1');
    const tampered = seal(key, t1, body);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    await pub.client.publishAsync(t1, tampered, { qos: 1 });
    const t2 = syncTopic(PREFIX, 'person', 'intruder-2');
    await pub.client.publishAsync(t2, seal(randomBytes(32), t2, Buffer.from(body.toString().replace('intruder-1', 'intruder-2'))), { qos: 1 });
    await until(async () => (await metric('b', 'refused')) >= before + 2, 30_000, 'B to refuse both');
    expect((await people('b')).some((x) => x.name === 'Intruder')).toBe(false);
    await pub.client.endAsync();
  });

  it('a box with the wrong key, joining and restarted, says so and publishes nothing; the site keeps its records', async () => {
    await until(async () => (await metric('a', 'pending')) === 0 && (await metric('b', 'pending')) === 0, 30_000, 'A and B to have published everything');
    const before = await retainedRecords();
    expect(before.size).toBeGreaterThanOrEqual(2);
    const wrongKey = randomBytes(32);
    const mark = onBroker.length;
    await launch('w', wrongKey);
    const w = node('w');
    type SyncJson = { keyMismatch: boolean; unreadable: number; pending: number; sent: number };
    const syncOn = async () => ((await (await w.web.req('GET', '/api/people')).json()) as { sync: SyncJson }).sync;
    await until(async () => (await syncOn()).keyMismatch, 30_000, 'W to find that its key opens nothing');
    const mismatchMetric = async () => /^facegate_sync_key_mismatch 1$/m.test(await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text());
    expect(await mismatchMetric()).toBe(true);
    expect((await syncOn()).unreadable).toBe(before.size);
    // A person enrolled on W waits; nothing goes out, across a restart too.
    expect((await w.web.req('POST', '/api/people', { name: 'Only On W' })).ok).toBe(true);
    await until(async () => (await syncOn()).pending === 1, 30_000, 'the change to wait on W');
    expect(await w.app.stop('SIGTERM')).toBe(0);
    expect(w.app.log.match(/site key opens none of the \d+ facebank records/g)).toHaveLength(1);
    await w.app.start();
    await until(async () => (await syncOn()).keyMismatch, 30_000, 'W to find it again after the restart');
    expect(await mismatchMetric()).toBe(true);
    expect((await syncOn()).sent).toBe(0);
    const list = await runCli(['people', 'list', '--data-dir', path.join(dir, 'w')]);
    expect(list.stdout).toMatch(/Sync: not sending: this appliance's key opened none of the \d+ records on the broker/);
    const after = await retainedRecords();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [topic, payload] of after) expect(payload.equals(before.get(topic)!)).toBe(true);
    // No record went out meanwhile, retained or not (A and B are idle; W's probes aside).
    expect(onBroker.slice(mark).filter((m) => /\/facebank\/(person|sample)\//.test(m.topic))).toEqual([]);
    expect(await w.app.stop('SIGTERM')).toBe(0);
    delete nodes.w;
  });

  it('a record of A overwritten on the broker (garbage, then a copy under another key) is repaired by A while it stays connected', async () => {
    const lin = (await people('a')).find((x) => x.name === LIN)!;
    const topic = syncTopic(PREFIX, 'person', lin.id);
    const original = (await retainedRecords()).get(topic)!;
    const plain = open(key, topic, original)!;
    const pub = await mqtt.connectAsync(broker.url);
    const readable = async () => {
      const now = (await retainedRecords()).get(topic);
      return now !== undefined && open(key, topic, now)?.toString() === plain.toString();
    };
    const logBefore = node('a').app.log.length;
    for (const bad of [Buffer.from('garbage'), seal(randomBytes(32), topic, plain)]) {
      await pub.publishAsync(topic, bad, { qos: 1, retain: true });
      await until(readable, 30_000, 'A to put its version back');
    }
    await pub.endAsync();
    expect(
      node('a')
        .app.log.slice(logBefore)
        .match(/replaced by the version held here/g)?.length,
    ).toBeGreaterThanOrEqual(2);
    expect(node('a').app.log.slice(logBefore)).not.toContain('sync connected');
  });

  it("B's People page (Chromium) shows where each person came from and the sync state, connected or not", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${node('b').port}/#/people`);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const line = page.locator('#sync-state');
      await line.waitFor();
      expect(await line.textContent()).toMatch(/^Shared with the site's other appliances as box-b: in sync; last sync \S.*\.$/);
      expect(await line.textContent()).not.toContain('never');
      expect(await page.locator('.person', { hasText: LIN }).textContent()).toContain('from box-a');
      // Broker away and a change made on B: the line says so, and that it is waiting.
      await broker.stop(true);
      await until(
        async () =>
          (await metric('b', 'pending')) === 0 &&
          !((await (await node('b').web.req('GET', '/api/people')).json()) as { sync: { connected: boolean } }).sync.connected,
        30_000,
        'B to see the broker gone',
      );
      const lin = (await people('b')).find((x) => x.name === LIN)!;
      expect((await node('b').web.req('PATCH', `/api/people/${lin.id}`, { name: `${LIN} Jr` })).ok).toBe(true);
      await page.reload();
      await line.waitFor();
      expect(await line.textContent()).toMatch(/as box-b: not connected, 1 change waiting; last sync/);
      await broker.start();
      await until(async () => (await metric('b', 'pending')) === 0, 30_000, 'B to send its change');
      expect((await node('b').web.req('PATCH', `/api/people/${lin.id}`, { name: LIN })).ok).toBe(true);
      await until(
        async () => (await metric('b', 'pending')) === 0 && (await people('a')).some((x) => x.id === lin.id && x.name === LIN),
        30_000,
        'the name back on A',
      );
      await page.reload();
      await line.waitFor();
      expect(await line.textContent()).toContain('as box-b: in sync');
    } finally {
      await browser.close();
    }
  });

  it('a broker that lost its retained state is refilled by A and B: an appliance C started afterwards converges', async () => {
    await until(async () => (await metric('a', 'pending')) === 0 && (await metric('b', 'pending')) === 0, 30_000, 'A and B to have published everything');
    // The broker is killed and replaced, on the same port, by one with no persistence: no retained record left.
    await broker.stop();
    amnesiac = new Mosquitto();
    amnesiac.port = broker.port;
    await amnesiac.start();
    const empty = await subscriber(amnesiac.url, `${PREFIX}/facebank/+/+`);
    await launch('c');
    const view = async (n: Box) => (await people(n)).map((p) => `${p.id} ${p.name} ${p.samples} ${p.origin}`).sort();
    await until(
      async () => (await view('c')).length > 0 && JSON.stringify(await view('c')) === JSON.stringify(await view('a')),
      60_000,
      'C to have what A has',
    );
    expect(await view('c')).toEqual(await view('b'));
    expect((await people('c')).find((x) => x.name === LIN)).toMatchObject({ samples: 1, origin: 'box-a' });
    expect(node('a').app.log).toContain('the broker lacks records of this appliance');
    // The new broker holds the people again as retained records.
    const count = (await people('a')).length;
    await until(
      () => empty.got.filter((m) => m.topic.includes('/person/') && m.payload.length > 0).length >= count,
      30_000,
      'the people retained on the new broker',
    );
    await empty.client.endAsync();
  });

  it('`facegate people list` on B shows where each person came from and the sync state', async () => {
    const r = await runCli(['people', 'list', '--json', '--data-dir', path.join(dir, 'b')]);
    expect(r.code).toBe(0);
    const out = r.json as { people: { name: string; origin: string }[]; sync: { lastSync: string; pending: number } };
    expect(out.people.find((p) => p.name === LIN)?.origin).toBe('box-a');
    expect(out.sync.pending).toBe(0);
    expect(Date.parse(out.sync.lastSync)).toBeGreaterThan(Date.now() - 600_000);
    const text = await runCli(['people', 'list', '--data-dir', path.join(dir, 'b')]);
    expect(text.stdout).toMatch(/Lin-Manuel Miranda {2}\(1 sample\) {2}from box-a/);
    expect(text.stdout).toMatch(/Sync: last exchange \d{4}-.*, 0 changes pending\./);
  });
});
