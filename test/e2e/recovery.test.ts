/**
 * Recovery while the appliance runs (issue 23.2, 23.3), with real processes: `facegate passwd --reset` is handed
 * to the running `facegate run`, which ends every session and token at once and asks for the new claim code; the
 * old password never signs in again, not even after a restart. `facegate status` tells root the state and the
 * claim code, and says clearly when no appliance runs. The claim code reaches stderr at any log level.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { launchChromium } from '../helpers/chromium.js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser } from 'playwright-core';
import { locate } from '../helpers/prereqs.mjs';
import { hasTestData } from '../helpers/data.js';
import { freePort } from '../helpers/ports.js';
import { AdminClient, ApplianceProcess, requireBuild, runCli, writeApplianceConfig } from './appliance.js';

const OLD = 'the old admin password';
const NEW = 'the new admin password';

const signIn = (base: string, password: string) =>
  fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ password }) });

describe.skipIf(!hasTestData)('recovery while the appliance runs (real processes)', { timeout: 300_000 }, () => {
  let dir: string;
  let dataDir: string;
  let base: string;
  let app: ApplianceProcess;
  let config: string;
  let browser: Browser | null = null;
  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-recovery-'));
    dataDir = path.join(dir, 'data');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    config = await writeApplianceConfig(path.join(dir, 'config.yaml'), { dataDir, port });
    // The quietest log level: the claim code must still reach the operator.
    app = new ApplianceProcess(config, { FACEGATE_LOG_LEVEL: 'error' });
    await app.start(/Claim code: /);
    await app.waitForLog(/Admin page: http:\/\/127\.0\.0\.1:\d+/);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the claim code and the page address on stderr at log level error; `status` shows them to the service user', async () => {
    const code = app.claimCode();
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(app.log).toContain(`Admin page: ${base}`);
    // No JSON log line at this level carries the code.
    expect(app.log).not.toContain('"claimCode"');
    const st = await runCli(['status', '--data-dir', dataDir, '--json']);
    expect(st.code).toBe(0);
    expect(st.json).toMatchObject({ running: true, setup: { claimed: false, claimCode: code }, page: { urls: [base] }, cameras: [] });
    expect(st.json.broker).toMatchObject({ url: 'mqtt://127.0.0.1:9', connected: false });
    expect(st.json.disk.freeBytes).toBeGreaterThan(0);
    const text = await runCli(['status', '--data-dir', dataDir]);
    expect(text.stdout).toContain(`Claim code: ${code}`);
    expect(text.stdout).toMatch(/Appliance: running \(pid \d+/);
  });

  it('passwd --reset is done by the running appliance: sessions and tokens end at once, the page asks for the new code, the old password never comes back', async () => {
    const admin = new AdminClient(base);
    await admin.setup(OLD, app.claimCode());
    // A browser signed in with the old password, on the people page.
    const chromiumPath = locate('chromium');
    browser = chromiumPath ? await launchChromium() : null;
    const page = await browser?.newPage();
    if (page) {
      await page.goto(`${base}/`);
      await page.getByLabel('Password').fill(OLD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'People' }).waitFor();
    }
    const minted = await admin.req('POST', '/api/tokens', { name: 'automation', scope: 'read' });
    expect(minted.status).toBe(201);
    const { token } = (await minted.json()) as { token: string };
    const bearer = () => fetch(`${base}/api/people`, { headers: { authorization: `Bearer ${token}` } });
    expect((await bearer()).status).toBe(200);
    expect((await admin.req('GET', '/api/people')).status).toBe(200);
    expect((await runCli(['status', '--data-dir', dataDir, '--json'])).json.setup).toMatchObject({ claimed: true, claimCode: null });

    const reset = await runCli(['passwd', '--reset', '--data-dir', dataDir, '--json']);
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.json).toMatchObject({ reset: true, via: 'appliance' });
    const code = reset.json.claimCode as string;

    // At once: the browser session and the token are refused, the page is back to claiming.
    expect((await admin.req('GET', '/api/people')).status).toBe(401);
    expect((await bearer()).status).toBe(401);
    const status = (await (await fetch(`${base}/api/session-status`)).json()) as { setupRequired: boolean };
    expect(status.setupRequired).toBe(true);
    expect([401, 409]).toContain((await signIn(base, OLD)).status);
    if (page) {
      // The open page, at its next step, asks for the new claim code.
      await page.getByRole('link', { name: 'Events' }).click();
      await page.getByRole('heading', { name: 'Claim this appliance' }).waitFor();
      await browser!.close();
      browser = null;
    }
    // The appliance printed the new code on stderr, and `status` shows it.
    await app.waitForLog(`Claim code: ${code}`);
    expect(app.claimCode()).toBe(code);
    expect((await runCli(['status', '--data-dir', dataDir, '--json'])).json.setup).toMatchObject({ claimed: false, claimCode: code });

    // Only the new code claims it; after that the old password still fails, also after a restart.
    const fresh = new AdminClient(base);
    await fresh.setup(NEW, code);
    expect((await signIn(base, OLD)).status).toBe(401);
    expect((await signIn(base, NEW)).status).toBe(200);
    expect(await app.stop('SIGTERM')).toBe(0);
    const file = JSON.parse(await readFile(path.join(dataDir, 'auth.json'), 'utf8')) as { tokens: unknown[]; claimCode: string | null };
    expect(file).toMatchObject({ tokens: [], claimCode: null });
    app = new ApplianceProcess(config);
    await app.start();
    expect((await signIn(base, OLD)).status).toBe(401);
    expect((await signIn(base, NEW)).status).toBe(200);
  });

  it('with no appliance running, status says so (exit 3) and passwd --reset changes the file itself', async () => {
    expect(await app.stop('SIGTERM')).toBe(0);
    const st = await runCli(['status', '--data-dir', dataDir]);
    expect(st.code).toBe(3);
    expect(st.stdout).toMatch(/Appliance: NOT running on /);
    const reset = await runCli(['passwd', '--reset', '--data-dir', dataDir, '--json']);
    expect(reset.code).toBe(0);
    expect(reset.json).toMatchObject({ reset: true, via: 'local' });
    const after = await runCli(['status', '--data-dir', dataDir, '--json']);
    expect(after.json).toMatchObject({ running: false, setup: { claimed: false, claimCode: reset.json.claimCode } });
    // The next start offers that code.
    await app.start(/Claim code: /);
    expect(app.claimCode()).toBe(reset.json.claimCode);
  });

  it('a reset the running appliance cannot make is refused with a sentence, never a silent success', async () => {
    await app.stop('SIGTERM');
    const fixedDir = path.join(dir, 'fixed');
    const port = await freePort();
    const fixedConfig = await writeApplianceConfig(path.join(dir, 'fixed.yaml'), {
      dataDir: fixedDir,
      port,
      web: { passwordHash: 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g=' },
    });
    const fixed = new ApplianceProcess(fixedConfig);
    try {
      await fixed.start();
      const r = await runCli(['passwd', '--reset', '--data-dir', fixedDir]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/The password is set in the config \(web\.passwordHash or FACEGATE_ADMIN_PASSWORD_HASH\); remove it there\./);
      expect(r.stdout).not.toContain('Claim code');
    } finally {
      await fixed.stop('SIGKILL');
    }
  });
});
