/**
 * Events survive the appliance with the broker away, with real processes: `facegate run` on a looping file
 * camera queues events while mosquitto is down; SIGTERM, then a restart and SIGKILL; then the broker comes up
 * and the next run delivers every queued event, in order, to a QoS-1 subscriber (the payload id tells
 * duplicates apart; they are counted).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestData } from '../helpers/data.js';
import { hasMosquitto, Mosquitto } from '../helpers/mosquitto.js';
import { freePort } from '../helpers/ports.js';
import { subscriber } from '../mqtt/util.js';
import { ApplianceProcess, requireBuild, writeApplianceConfig } from './appliance.js';

/** Event ids still queued in the journal, oldest first (the queue's own replay rules). */
function journalIds(file: string): string[] {
  const live = new Map<number, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    let r: { s?: number; v?: { payload: string }[]; a?: number; d?: number };
    try {
      r = JSON.parse(line);
    } catch {
      continue;
    }
    if (r.s !== undefined) live.set(r.s, (JSON.parse(r.v![0]!.payload) as { id: string }).id);
    else live.delete((r.a ?? r.d)!);
  }
  return [...live.values()];
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function until(pred: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasTestData || !hasMosquitto)('queued events survive SIGTERM and SIGKILL with the broker away', { timeout: 600_000 }, () => {
  let dir: string;
  let port: number;
  let app: ApplianceProcess;
  const broker = new Mosquitto();
  const queueFile = () => path.join(dir, 'data', 'mqtt-queue.jsonl');

  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-dq-'));
    port = await freePort();
    // The broker's port is chosen now; nothing listens on it until the broker starts.
    broker.port = await freePort();
    app = new ApplianceProcess(
      await writeApplianceConfig(path.join(dir, 'config.yaml'), {
        dataDir: path.join(dir, 'data'),
        camera: true,
        mqtt: { url: broker.url, prefix: 'dq' },
        port,
      }),
      { FACEGATE_LOG_LEVEL: 'info' },
    );
  });
  afterAll(async () => {
    await app?.stop('SIGKILL');
    await broker.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM, then SIGKILL, then delivery: every queued event arrives, in order', async () => {
    // Run 1: events queue up with the broker away; SIGTERM exits 0 and says what it keeps.
    await app.start();
    await until(async () => (await metric(port, 'facegate_events_queued')) >= 5, 120_000, '5 queued events');
    expect(await app.stop('SIGTERM')).toBe(0);
    const kept = /"events":(\d+),"file":"[^"]*","msg":"queued events kept for the next start"/.exec(app.log);
    expect(kept).not.toBeNull();
    const afterTerm = journalIds(queueFile());
    expect(afterTerm.length).toBe(Number(kept![1]));
    expect(afterTerm.length).toBeGreaterThanOrEqual(5);

    // Run 2: replays them, queues more, and is killed outright.
    await app.start();
    expect(app.log).toContain(`"events":${afterTerm.length},`);
    expect(app.log).toMatch(/queued events of an earlier run replayed/);
    await until(async () => (await metric(port, 'facegate_events_queued')) >= afterTerm.length + 5, 120_000, '5 more queued events');
    const queuedBeforeKill = await metric(port, 'facegate_events_queued');
    expect(await app.stop('SIGKILL')).toBe('SIGKILL');
    const afterKill = journalIds(queueFile());
    expect(afterKill.slice(0, afterTerm.length)).toEqual(afterTerm);
    expect(afterKill.length).toBeGreaterThanOrEqual(queuedBeforeKill);

    // Run 3: the broker is back; a subscriber is waiting; everything queued arrives, in the order queued.
    await broker.start();
    const sub = await subscriber(broker.url, 'dq/+/events', { clientId: 'dq-sub' });
    try {
      await app.start();
      await until(() => new Set(sub.got.map((m) => JSON.parse(m.payload).id)).size >= afterKill.length, 120_000, 'every queued event at the subscriber');
      const ids = sub.got.map((m) => JSON.parse(m.payload).id as string);
      const firstSeen = [...new Set(ids)];
      expect(firstSeen.slice(0, afterKill.length)).toEqual(afterKill);
      const duplicates = ids.length - firstSeen.length;
      console.log(
        `[durable queue] SIGTERM kept ${afterTerm.length}, SIGKILL left ${afterKill.length} (metric said ${queuedBeforeKill}), delivered ${afterKill.length}/${afterKill.length}, duplicates ${duplicates}`,
      );
      expect(await app.stop('SIGTERM')).toBe(0);
    } finally {
      await sub.client.endAsync(true);
    }
  });

  it('beyond mqtt.queueLimit the oldest are dropped: logged, counted in /metrics, and the journal keeps the newest', async () => {
    await broker.stop();
    const small = await writeApplianceConfig(path.join(dir, 'small.yaml'), {
      dataDir: path.join(dir, 'data-small'),
      camera: true,
      mqtt: { url: broker.url, prefix: 'dq', queueLimit: 3 },
      port,
    });
    const limited = new ApplianceProcess(small, { FACEGATE_LOG_LEVEL: 'info' });
    try {
      await limited.start();
      await until(async () => (await metric(port, 'facegate_events_dropped_total')) >= 2, 120_000, 'dropped events counted');
      await limited.waitForLog(/"dropped":1,"limit":3,"msg":"event queue full: oldest events dropped"/);
      expect(await metric(port, 'facegate_events_queued')).toBe(3);
      expect(await limited.stop('SIGTERM')).toBe(0);
      expect(journalIds(path.join(dir, 'data-small', 'mqtt-queue.jsonl'))).toHaveLength(3);
    } finally {
      await limited.stop('SIGKILL');
    }
  });
});
