/** SIGTERM while `facegate run` is still starting: a clean stop (exit 0, a log line), never an abrupt 143. */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLock } from '../../src/store/lock.js';
import { ApplianceProcess, cli, requireBuild, writeApplianceConfig } from './appliance.js';

/** The modules a file imports statically (`import ... from '...'` and `import '...'`), in order. */
const staticImports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^import\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

describe('signals during start-up', { timeout: 300_000 }, () => {
  let dir: string;
  let config: string;
  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-sig-'));
    config = await writeApplianceConfig(path.join(dir, 'config.yaml'), { dataDir: path.join(dir, 'data') });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM as soon as the process shows as "facegate run" (its modules still loading): exit 0, logged', async () => {
    const app = new ApplianceProcess(config, { FACEGATE_LOG_LEVEL: 'info' });
    const started = app.start('facegate running').catch((e: Error) => e);
    const cmdline = () => readFileSync(`/proc/${app.child!.pid}/cmdline`, 'utf8').replace(/\0+$/, '');
    const end = Date.now() + 60_000;
    while (cmdline() !== 'facegate run') {
      if (Date.now() > end) throw new Error(`the process never showed as "facegate run" (${cmdline()})`);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(app.log).toBe('');
    expect(await app.stop('SIGTERM')).toBe(0);
    await started;
    expect(app.log).toMatch(/"signal":"SIGTERM","msg":"stopping during start-up"/);
    expect(app.log).toMatch(/"msg":"stopped"/);
    expect(app.log).not.toMatch(/facegate running/);
  });

  it('signals are held before any module of facegate but the holder loads (only Node itself starts before)', () => {
    // A static import is loaded and run before the importing module's first line: everything the entry imports
    // statically is time in which a SIGTERM ends the process with 143 and no log line (most of a second for zod
    // and yaml on a busy board). So the entry imports only the signal holder (which imports nothing) statically.
    const entry = staticImports(cli).filter((m) => !m.startsWith('node:'));
    expect(entry).toEqual(['./cli/early-signals.js']);
    expect(staticImports(path.join(path.dirname(cli), 'cli', 'early-signals.js'))).toEqual([]);
  });

  it('SIGTERM while start-up waits for the facebank (a CLI job holds it): stops at once, exit 0', async () => {
    const dataDir = path.join(dir, 'data');
    await mkdir(dataDir, { recursive: true });
    const cliJob = await DataDirLock.acquire(dataDir, { role: 'enroll' });
    try {
      const app = new ApplianceProcess(config, { FACEGATE_LOG_LEVEL: 'info' });
      const started = app.start('facegate running').catch((e: Error) => e);
      // Waiting: the process asks who holds the lock (it connects to it) until it is free.
      await new Promise<void>((resolve) => cliJob.onAsked(resolve));
      const t0 = Date.now();
      expect(await app.stop('SIGTERM')).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      await started;
      expect(app.log).toMatch(/stopping during start-up/);
      expect(app.log).toMatch(/"msg":"stopped"/);
      expect(app.log).not.toMatch(/models loaded/);
    } finally {
      await cliJob.release();
    }
  });
});
