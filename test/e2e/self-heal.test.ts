/**
 * It heals itself, with real processes: `facegate run` on a looping file camera, a real mosquitto and a QoS-1
 * subscriber, its data dir on a real 3 MiB tmpfs.
 * - The disk fills up while the camera runs: the appliance stays up, live events keep reaching the subscriber,
 *   /readyz, /metrics and /api/storage say the disk is full (logged once), nothing is torn, and once space is back
 *   it keeps history again by itself. Restarted on a full disk it runs (no crash loop).
 * - SIGKILL right after an event reached the subscriber: the event is in /api/events after the restart.
 * - A corrupt auth.json: the appliance starts unclaimed (claim code in the log), the file is kept aside, and
 *   `facegate passwd --reset` works on a corrupt file. Corrupt journal lines: one log line with a count.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestData } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.js';
import { subscriber, type Received } from '../mqtt/util.js';
import { AdminClient, ApplianceProcess, requireBuild, runCli, writeApplianceConfig } from './appliance.js';

const disk = hasTestData && hasMosquitto ? mountSmallDisk(3, 'the self-heal end-to-end tests') : null;
const PASSWORD = 'the admin password';

async function until(pred: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Recognition event ids among the messages, in arrival order (other topics are skipped). */
const eventIds = (got: Received[]) =>
  got.flatMap((m) => {
    try {
      const p = JSON.parse(m.payload) as { id?: unknown; track?: unknown; type?: unknown };
      return typeof p.id === 'string' && typeof p.track === 'string' && typeof p.type === 'string' ? [p.id] : [];
    } catch {
      return [];
    }
  });

/** Every line of a JSON-lines file parses and the file ends with a newline (nothing torn). */
function assertWhole(file: string): number {
  const text = readFileSync(file, 'utf8');
  expect(text === '' || text.endsWith('\n'), `${file} ends in a torn line`).toBe(true);
  const lines = text.split('\n').filter(Boolean);
  for (const l of lines) expect(() => JSON.parse(l) as unknown, `${file}: ${l.slice(0, 60)}`).not.toThrow();
  return lines.length;
}

describe.skipIf(!disk)('it heals itself (real appliance, mosquitto, camera, a 3 MiB disk)', { timeout: 900_000 }, () => {
  const d = disk as SmallDisk;
  const dataDir = path.join(d.dir, 'data');
  const broker = new Mosquitto();
  let port: number;
  let app: ApplianceProcess;
  let sub: { got: Received[]; client: { endAsync(force?: boolean): Promise<unknown> } };
  let admin: AdminClient;
  const base = () => `http://127.0.0.1:${port}`;
  const ready = async () => (await (await fetch(`${base()}/readyz`)).json()) as { status: string; checks: { storage: boolean }; reasons?: string[] };
  const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${base()}/metrics`)).text())?.[1] ?? NaN);
  const history = async () => ((await (await admin.req('GET', '/api/events?limit=1000')).json()) as { events: { id: string }[] }).events.map((e) => e.id);
  const received = () => eventIds(sub.got);

  beforeAll(async () => {
    requireBuild();
    await broker.start();
    port = await freePort();
    await mkdir(dataDir, { recursive: true });
    const config = await writeApplianceConfig(path.join(d.dir, 'config.yaml'), {
      dataDir,
      camera: true,
      mqtt: { url: broker.url, prefix: 'heal' },
      port,
    });
    app = new ApplianceProcess(config, { FACEGATE_LOG_LEVEL: 'info' });
    sub = await subscriber(broker.url, 'heal/#', { clientId: 'heal-sub' });
    await app.start();
    admin = new AdminClient(base());
    await admin.setup(PASSWORD, app.claimCode());
  });
  afterAll(async () => {
    await app?.stop('SIGKILL');
    await sub?.client.endAsync(true);
    await broker.dispose();
    d.unmount();
  });

  it('a full disk is a state: live events go on, the probes say so once, nothing is torn, history resumes by itself', async () => {
    await until(() => received().length >= 2, 180_000, 'two live events');
    expect((await ready()).checks.storage).toBe(true);
    expect(await metric('facegate_storage_writable')).toBe(1);

    await d.fill();
    await until(async () => !(await ready()).checks.storage, 180_000, '/readyz to say the disk is full');
    const atFull = received().length;
    await until(() => received().length >= atFull + 3, 180_000, 'three more live events on the full disk');
    const r = await ready();
    expect(r.status).toBe('ready'); // live recognition is not affected
    expect(r.reasons?.[0]).toMatch(/is full \(ENOSPC\): recognition and live MQTT events go on/);
    expect(await metric('facegate_storage_writable')).toBe(0);
    expect(await (await admin.req('GET', '/api/storage')).json()).toMatchObject({ ok: false, code: 'ENOSPC' });
    expect(app.log.match(/is full \(ENOSPC\)/g)).toHaveLength(1);
    // Kept in memory meanwhile: the page lists what came while the disk was full.
    const duringFull = received().slice(atFull);
    expect(await history()).toEqual(expect.arrayContaining(duringFull));

    await d.free();
    await until(async () => (await ready()).checks.storage, 60_000, '/readyz to say storage is writable again');
    expect(app.log).toMatch(/storage writable again/);
    expect(await metric('facegate_storage_writable')).toBe(1);
    expect(await app.stop('SIGTERM')).toBe(0);
    expect(app.log).not.toMatch(/uncaught|ENOSPC.*\n\s+at /);
    for (const f of ['events.jsonl', 'unknowns.jsonl', 'mqtt-queue.jsonl']) assertWhole(path.join(dataDir, f));

    // The history written after the recovery holds what came while the disk was full.
    await app.start();
    expect(await history()).toEqual(expect.arrayContaining(duringFull));
  });

  it('restarted on a full disk it runs (no crash loop): live events flow, the probes say the disk is full', async () => {
    await d.fill();
    expect(await app.stop('SIGKILL')).toBe('SIGKILL');
    await app.start();
    const before = received().length;
    await until(() => received().length >= before + 3, 180_000, 'live events from an appliance started on a full disk');
    await until(async () => !(await ready()).checks.storage, 60_000, '/readyz to say the disk is full');
    expect(app.child!.exitCode).toBeNull();
    await d.free();
    await until(async () => (await ready()).checks.storage, 60_000, 'storage to recover');
    expect(await app.stop('SIGTERM')).toBe(0);
    for (const f of ['events.jsonl', 'unknowns.jsonl', 'mqtt-queue.jsonl']) assertWhole(path.join(dataDir, f));
    await app.start();
  });

  it('SIGKILL right after an event reached the subscriber: after the restart /api/events has every event received', async () => {
    for (let round = 0; round < 3; round++) {
      const before = received().length;
      await until(() => received().length > before, 180_000, 'a live event');
      expect(await app.stop('SIGKILL')).toBe('SIGKILL');
      const got = received();
      await app.start();
      const h = new Set(await history());
      const missing = got.filter((id) => !h.has(id));
      expect(missing, `round ${round}: received but not in the history`).toEqual([]);
    }
  });

  it('a corrupt auth.json: starts unclaimed with a claim code, the file kept aside; corrupt journal lines are logged once with a count', async () => {
    expect(await app.stop('SIGTERM')).toBe(0);
    await writeFile(path.join(dataDir, 'auth.json'), '{"passwordHash":"scrypt$16384$8$1$abc","tokens":[{"id":');
    await appendFile(path.join(dataDir, 'events.jsonl'), 'not json\n{"e":{"event":{"id":5}}}\n{"c":"x"}\n');
    await app.start();
    expect(app.log).toMatch(
      /auth\.json was refused \(it is not JSON \(cut short or overwritten\)\); it is kept as auth\.json\.corrupt-[^ ]+, and the appliance starts unclaimed/,
    );
    expect(app.log.match(/The event history \(events\.jsonl\) had 3 lines that are not a valid record/g)).toHaveLength(1);
    const code = app.claimCode();
    expect(readdirSync(dataDir).filter((f) => f.startsWith('auth.json.corrupt-'))).toHaveLength(1);
    const status = (await (await fetch(`${base()}/api/session-status`)).json()) as { setupRequired: boolean };
    expect(status.setupRequired).toBe(true);
    admin = new AdminClient(base());
    await admin.setup(PASSWORD, code);
    expect((await admin.req('GET', '/api/events?limit=5')).status).toBe(200);
    expect(await app.stop('SIGTERM')).toBe(0);
  });

  it('facegate passwd --reset works on a corrupt auth.json (kept aside) and the page then takes the new claim code', async () => {
    await writeFile(path.join(dataDir, 'auth.json'), 'garbage');
    const r = await runCli(['passwd', '--reset', '--data-dir', dataDir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const code = (r.json as { claimCode: string }).claimCode;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(readdirSync(dataDir).filter((f) => f.startsWith('auth.json.corrupt-'))).toHaveLength(2);
    await app.start();
    admin = new AdminClient(base());
    await admin.setup(PASSWORD, code);
    expect((await admin.req('GET', '/api/events?limit=5')).status).toBe(200);
  });
});
