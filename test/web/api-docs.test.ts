/** The API reference page (/api.html) in a real Chromium: the appliance's own document, readable, no CDN. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { type Browser } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { hasTestData } from '../helpers/data.js';
import { need } from '../helpers/prereqs.mjs';
import { buildDeps, type TestDeps } from './deps.js';

const hasChromium = need('the API reference page in Chromium', 'chromium');
const PASSWORD = 'a long admin password';

describe.skipIf(!hasTestData || !hasChromium)('API reference page', () => {
  let d: TestDeps;
  let server: WebServer;
  let browser: Browser;
  beforeAll(async () => {
    d = await buildDeps({ web: { host: '127.0.0.1', port: 0 } });
    server = await startWebServer(d);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await d?.cleanup();
  });

  it('asks for sign-in, then lists every operation with its parameters and answers', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 800 } });
    const offSite: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) offSite.push(r.url());
    });
    await page.goto(`${server.url}/api.html`);
    await page.getByText('Sign in on').waitFor();
    await page.goto(`${server.url}/`);
    await page.getByLabel('Claim code').fill(d.auth.pendingClaimCode()!);
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await page.goto(`${server.url}/api.html`);
    await page.getByRole('heading', { name: 'GET /api/events' }).waitFor();
    const events = page.locator('section', { has: page.getByRole('heading', { name: 'GET /api/events' }) });
    expect(await events.textContent()).toContain('limit (query): integer 1..1000, default 100');
    const token = page.locator('section', { has: page.getByRole('heading', { name: 'POST /api/tokens', exact: true }) });
    expect(await token.textContent()).toMatch(/201 Created \(application\/json\)/);
    expect(await page.getByRole('heading', { name: 'GET /api/samples/{id}/crop.jpg' }).count()).toBe(1);
    expect(offSite).toEqual([]);
  });
});
