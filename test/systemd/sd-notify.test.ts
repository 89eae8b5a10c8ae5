import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SdNotifier, watchdogInfo } from '../../src/util/sd-notify.js';
import { locate, need } from '../helpers/prereqs.mjs';
import { bindNotifySocket, type NotifySocket } from '../helpers/notify-socket.js';

const hasPython = need('the sd-notify socket tests', 'python3');
const hasSystemdNotify = need('the systemd-notify fallback test', 'systemd-notify');

const listeners: NotifySocket[] = [];
const notifiers: SdNotifier[] = [];

async function listen(addr: string): Promise<NotifySocket> {
  const l = await bindNotifySocket(addr);
  listeners.push(l);
  return l;
}

const notifier = (env: NodeJS.ProcessEnv, mechanism?: 'python3' | 'systemd-notify') => {
  const errors: string[] = [];
  const n = new SdNotifier({ env, mechanism, onError: (m) => errors.push(m) });
  notifiers.push(n);
  return Object.assign(n, { errors });
};

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close()));
  listeners.splice(0).forEach((l) => l.close());
});

describe('watchdogInfo', () => {
  it('reads WATCHDOG_USEC and pings at half the period', () => {
    expect(watchdogInfo({ WATCHDOG_USEC: '30000000' }, 42)).toEqual({ usec: 30_000_000, intervalMs: 15_000 });
    expect(watchdogInfo({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toEqual({ usec: 30_000_000, intervalMs: 15_000 });
  });
  it('ignores a watchdog meant for another process, or none', () => {
    expect(watchdogInfo({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42)).toBeNull();
    expect(watchdogInfo({}, 42)).toBeNull();
    expect(watchdogInfo({ WATCHDOG_USEC: 'abc' }, 42)).toBeNull();
  });
});

describe('SdNotifier without NOTIFY_SOCKET', () => {
  it('is a silent no-op', async () => {
    const n = notifier({ WATCHDOG_USEC: '1000000' });
    expect(n.enabled).toBe(false);
    expect(await n.ready('up')).toBe(false);
    expect(await n.watchdog()).toBe(false);
    expect(n.startWatchdog()).toBeNull();
    expect(n.errors).toEqual([]);
  });
});

describe.skipIf(!hasPython)('SdNotifier against a real AF_UNIX datagram socket', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-notify-'));

  it('sends READY, STATUS, WATCHDOG and STOPPING to a filesystem socket', async () => {
    const sock = path.join(dir, 'notify.sock');
    const l = await listen(sock);
    const n = notifier({ NOTIFY_SOCKET: sock });
    expect(n.mechanism).toBe('python3');
    expect(await n.ready('2 cameras online')).toBe(true);
    expect(await n.status('line one\nline two')).toBe(true);
    expect(await n.watchdog()).toBe(true);
    expect(await n.stopping()).toBe(true);
    expect(await l.next(4)).toEqual(['READY=1\nSTATUS=2 cameras online', 'STATUS=line one line two', 'WATCHDOG=1', 'STOPPING=1']);
    expect(n.errors).toEqual([]);
  });

  it('sends to an abstract socket (@name)', async () => {
    const name = `@facegate-test-${process.pid}-${Date.now()}`;
    const l = await listen(name);
    const n = notifier({ NOTIFY_SOCKET: name });
    expect(await n.ready()).toBe(true);
    expect(await n.notify('STATUS=ünïcode ok', 'EXTEND_TIMEOUT_USEC=5000000')).toBe(true);
    expect(await l.next(2)).toEqual(['READY=1', 'STATUS=ünïcode ok\nEXTEND_TIMEOUT_USEC=5000000']);
  });

  it('pings the watchdog at half of WATCHDOG_USEC while healthy', async () => {
    const sock = path.join(dir, 'wd.sock');
    const l = await listen(sock);
    let healthy = true;
    const n = notifier({ NOTIFY_SOCKET: sock, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) });
    expect(n.startWatchdog(() => healthy)).toEqual({ usec: 200_000, intervalMs: 100 });
    expect(await l.next(3, 3000)).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);
    healthy = false;
    await new Promise((r) => setTimeout(r, 150)); // a ping already in flight may still land
    l.drain();
    await new Promise((r) => setTimeout(r, 400)); // four periods without a ping
    expect(await n.status('marker')).toBe(true);
    expect(await l.next(1)).toEqual(['STATUS=marker']);
    expect(l.drain()).toEqual([]);
  });

  it('reports (never throws) when nobody listens', async () => {
    const n = notifier({ NOTIFY_SOCKET: path.join(dir, 'nobody.sock') });
    expect(await n.ready()).toBe(false);
    expect(n.errors.join('\n')).toMatch(/sd_notify failed: .*(No such file|Connection refused)/);
  });

  it.skipIf(!hasSystemdNotify)('falls back to systemd-notify', async () => {
    const sock = path.join(dir, 'sn.sock');
    const l = await listen(sock);
    const n = notifier({ NOTIFY_SOCKET: sock }, 'systemd-notify');
    expect(await n.notify('STATUS=via systemd-notify')).toBe(true);
    expect(await l.next(1)).toEqual(['STATUS=via systemd-notify']);
  });

  it.skipIf(!hasSystemdNotify)('finds its sender on PATH, wherever it is installed', async () => {
    const sock = path.join(dir, 'path.sock');
    const l = await listen(sock);
    // A PATH holding only systemd-notify (in a folder of its own): chosen with no python3 there.
    const bin = mkdtempSync(path.join(tmpdir(), 'facegate-bin-'));
    symlinkSync(locate('systemd-notify')!, path.join(bin, 'systemd-notify'));
    const n = notifier({ NOTIFY_SOCKET: sock, PATH: bin });
    expect(n.mechanism).toBe('systemd-notify');
    expect(await n.ready('found on PATH')).toBe(true);
    expect(await l.next(1)).toEqual(['READY=1\nSTATUS=found on PATH']);
    // A PATH with neither: notifications are off, and the log says why.
    const empty = notifier({ NOTIFY_SOCKET: sock, PATH: mkdtempSync(path.join(tmpdir(), 'facegate-bin-')) });
    expect(empty.enabled).toBe(false);
    expect(empty.errors).toEqual(['neither python3 nor systemd-notify is on the PATH; systemd notifications are off']);
  });
});
