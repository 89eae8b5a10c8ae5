/** The data-dir lock: one holder at a time, described to others, released by the kernel when the holder dies. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Facebank } from '../../src/store/facebank.js';
import { DataDirLock, lockHolder, LockedError } from '../../src/store/lock.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'facegate-lock-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('DataDirLock', () => {
  it('has one holder; others are told who it is; released on release()', async () => {
    const dir = await tmp();
    expect(await lockHolder(dir)).toBeNull();
    const lock = await DataDirLock.acquire(dir, { role: 'enroll' });
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid, role: 'enroll' });
    const err = await DataDirLock.acquire(dir, { role: 'run' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as LockedError).message).toBe(`The facebank in ${dir} is in use by another facegate enroll (pid ${process.pid}).`);
    await lock.release();
    expect(await lockHolder(dir)).toBeNull();
    await (await DataDirLock.acquire(dir, { role: 'run' })).release();
  });

  it('a waiter gets the lock as soon as a CLI holder releases it, but never waits for the appliance', async () => {
    const dir = await tmp();
    const first = await DataDirLock.acquire(dir, { role: 'enroll' });
    let got = false;
    const waiting = DataDirLock.acquire(dir, { role: 'people rm', waitMs: 30_000 }).then((l) => ((got = true), l));
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toBe(false);
    await first.release();
    const second = await waiting;
    expect(await lockHolder(dir)).toMatchObject({ role: 'people rm' });
    await second.release();
    const app = await DataDirLock.acquire(dir, { role: 'run' });
    const t0 = Date.now();
    await expect(DataDirLock.acquire(dir, { role: 'enroll', waitMs: 30_000 })).rejects.toThrow(/running appliance \(facegate run, pid \d+\)/);
    expect(Date.now() - t0).toBeLessThan(5000);
    await app.release();
  });

  it('a holder killed with SIGKILL leaves no stale lock', async () => {
    const dir = await tmp();
    const src = `import net from 'node:net'; import { statSync } from 'node:fs';
      const s = statSync(${JSON.stringify(dir)});
      net.createServer((c) => c.end(JSON.stringify({ pid: process.pid, role: 'run', since: '' }))).listen('\\0facegate-lock:' + s.dev + ':' + s.ino, () => console.log('held'));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout.once('data', r));
    expect(await lockHolder(dir)).toMatchObject({ pid: child.pid, role: 'run' });
    await expect(new Facebank(dir).open()).rejects.toBeInstanceOf(LockedError);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const fb = new Facebank(dir);
    await fb.open();
    await fb.close();
  });

  it('a second Facebank in the same process waits for the first to close (writers are serialised)', async () => {
    const dir = await tmp();
    const a = new Facebank(dir);
    await a.open();
    await a.createPerson('Ada');
    const b = new Facebank(dir, { lockWaitMs: 30_000 });
    const opened = b.open();
    await a.createPerson('Grace');
    await a.close();
    await opened;
    expect((await b.people()).map((p) => p.name)).toEqual(['Ada', 'Grace']);
    await b.close();
  });
});
