/** The storage banner in a real Chromium: shown above every view while the disk is full, gone once it is writable. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { type Browser } from 'playwright-core';
import { StorageHealth } from '../../src/store/storage-health.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { hasTestData } from '../helpers/data.js';
import { need } from '../helpers/prereqs.mjs';
import { buildDeps, type TestDeps } from './deps.js';

const hasChromium = need('the storage banner test in Chromium', 'chromium');
const PASSWORD = 'a long admin password';

describe.skipIf(!hasTestData || !hasChromium)('storage banner', () => {
  let d: TestDeps;
  let server: WebServer;
  let browser: Browser;
  const storage = new StorageHealth({ probeMs: 600_000 });

  beforeAll(async () => {
    d = await buildDeps({ web: { host: '127.0.0.1', port: 0 }, password: PASSWORD });
    d.storage = storage;
    server = await startWebServer(d);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    storage.stop();
    await browser?.close();
    await server?.close();
    await d?.cleanup();
  });

  it('says the disk is full above every view, and goes away when it is writable again', async () => {
    const page = await browser.newPage();
    await page.goto(server.url + '/');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'People' }).waitFor();
    const banner = page.locator('#storage-banner');
    expect(await banner.isVisible()).toBe(false);

    const file = `${d.config.dataDir}/events.jsonl`;
    storage.reportWriteFailure(file, Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    await page.getByRole('link', { name: 'Events' }).click();
    await banner.waitFor({ state: 'visible' });
    expect(await page.getByRole('alert').filter({ hasText: 'Storage:' }).textContent()).toMatch(
      /^Storage: The disk holding .+ is full \(ENOSPC\): recognition and live MQTT events go on, .*free space/,
    );
    await page.getByRole('link', { name: 'People' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    expect(await banner.isVisible()).toBe(true);

    storage.reportWriteOk(file);
    await page.getByRole('link', { name: 'Cameras' }).click();
    await banner.waitFor({ state: 'hidden' });
  });
});
