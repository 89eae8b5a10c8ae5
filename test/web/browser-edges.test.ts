/**
 * Rough edges of the admin page (issue 23.5) in a real Chromium, each as a user meets it: a group photo and a
 * photo too large to upload on the person page, a capture from a camera showing a group at 390 px, the token
 * list on a phone, and the page opened by its URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { buildDeps, type TestDeps } from './deps.js';
import { need } from '../helpers/prereqs.mjs';

const hasChromium = need('the admin page tests in Chromium', 'chromium');
const PASSWORD = 'a long admin password';
const MAX_UPLOAD = 300_000;

describe.skipIf(!hasTestData || !hasChromium)('rough edges of the admin page (chromium)', () => {
  let d: TestDeps;
  let server: WebServer;
  let browser: Browser;
  let tmp: string;
  const errors: string[] = [];

  /** A signed-in page at `width` px, its errors collected. */
  async function signedIn(width: number): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({
      viewport: { width, height: 844 },
      ...(width < 500 ? { deviceScaleFactor: 2, isMobile: true, hasTouch: true } : {}),
    });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
    await page.goto(server.url + '/');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    return { ctx, page };
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fg-edges-'));
    // The still camera shows the group photo bbt1.jpg; photos above 300 kB are refused.
    d = await buildDeps({ password: PASSWORD, web: { host: '127.0.0.1', port: 0, https: 'off', maxUploadBytes: MAX_UPLOAD } });
    server = await startWebServer(d, { notice: () => {} });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await d?.cleanup();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('opened by its URL, the page is not framed by a focus outline', async () => {
    const { ctx, page: first } = await signedIn(1280);
    // A new tab opened on the URL: no click or key in it before the page focuses <main>.
    const page = await ctx.newPage();
    await first.close();
    await page.goto(`${server.url}/#/people`);
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('main');
    expect(await page.evaluate(() => getComputedStyle(document.getElementById('main')!).outlineStyle)).toBe('none');
    await ctx.close();
  }, 60_000);

  it('a group photo asks which face in plain words (no "null", not red, no "0 accepted, 1 refused")', async () => {
    const penny = await d.facebank.createPerson('Penny');
    const { ctx, page } = await signedIn(1280);
    await page.goto(`${server.url}/#/people/${penny.id}`);
    await page.getByRole('heading', { name: 'Penny' }).waitFor();
    await page.locator('#pick').setInputFiles([dataPath('identity', 'bbt', 'bbt1.jpg')]);
    const picker = page.getByRole('group', { name: 'Pick the face to add' });
    await picker.waitFor({ timeout: 60_000 });
    const item = page.locator('.results li', { has: picker });
    expect(await item.innerText()).not.toMatch(/\bnull\b/);
    expect(await item.locator('.error').count()).toBe(0);
    expect(await item.getByText('Several faces in this photo: pick the one to add.').isVisible()).toBe(true);
    const red = await item.locator('.info').evaluate((el) => getComputedStyle(el).color);
    expect(red).not.toBe('rgb(179, 38, 30)');
    expect(await page.locator('#toast').innerText()).toBe('1 photo needs a choice.');
    await ctx.close();
  }, 120_000);

  it('a 38 MP photo over the limit: sizes in MB/kB, a small preview decoded at thumbnail size, never a broken image', async () => {
    const big = path.join(tmp, 'group-38mp.jpg');
    await sharp(dataPath('identity', 'bbt', 'bbt1.jpg'))
      .resize(7200, 5300, { fit: 'fill' })
      .jpeg({ quality: 92 })
      .toFile(big);
    const junk = path.join(tmp, 'not-really.jpg');
    await writeFile(junk, Buffer.alloc(MAX_UPLOAD + 1000, 7));
    const amy = await d.facebank.createPerson('Amy');
    const { ctx, page } = await signedIn(1280);
    await page.goto(`${server.url}/#/people/${amy.id}`);
    await page.getByRole('heading', { name: 'Amy' }).waitFor();
    await page.locator('#pick').setInputFiles([big, junk]);
    const bigItem = page.locator('.results li', { hasText: 'group-38mp.jpg' });
    await bigItem.waitFor({ timeout: 60_000 });
    const text = await bigItem.innerText();
    expect(text).toMatch(/File too large: \d+(\.\d)? MB; photos up to 300 kB are accepted\./);
    expect(text).not.toMatch(/\d{5,}/);
    // The preview is a thumbnail-sized bitmap, not the 38 MP file handed to an <img>.
    await bigItem.locator('canvas.thumb').waitFor();
    expect(await bigItem.locator('canvas.thumb').evaluate((c: HTMLCanvasElement) => c.width)).toBeLessThanOrEqual(112);
    expect(await page.locator('.results img[src^="blob:"]').count()).toBe(0);
    // A file that is no image keeps the "?" placeholder: no broken image anywhere.
    const junkItem = page.locator('.results li', { hasText: 'not-really.jpg' });
    await page.waitForTimeout(500);
    expect(await junkItem.locator('canvas, img').count()).toBe(0);
    expect(await junkItem.locator('.thumb').innerText()).toBe('?');
    const broken = await page.locator('.results img').evaluateAll((imgs: HTMLImageElement[]) => imgs.filter((i) => i.complete && i.naturalWidth === 0).length);
    expect(broken).toBe(0);
    expect(await page.locator('#toast').innerText()).toBe('2 photos refused.');
    await ctx.close();
  }, 120_000);

  it('at 390 px a captured group: the line under it describes the capture, the picked face is marked, no label covers another face', async () => {
    const { ctx, page } = await signedIn(390);
    await page.evaluate(() => (location.hash = '#/cameras'));
    await expect.poll(() => page.locator('img.frame').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Capture from camera' }).click();
    const faces = page.getByRole('group', { name: 'Faces in the frame' });
    await faces.waitFor({ timeout: 60_000 });
    const boxes = await page.locator('.stage .overlay .box').count();
    expect(boxes).toBeGreaterThan(2);
    const status = await page.locator('.camera p[role=status]').first().innerText();
    expect(status).toMatch(new RegExp(`^Captured frame: ${boxes} faces, \\d+ clear enough to add`));
    // Pick the second face: its box, and only it, is marked in the frame.
    const second = faces.getByRole('button').nth(1);
    const n = Number(/Face (\d+)/.exec(await second.innerText())![1]);
    await second.click();
    const picked = page.locator('.stage .overlay .box.picked');
    expect(await picked.count()).toBe(1);
    expect(await page.locator('.stage .overlay .label.picked').innerText()).toBe(String(n));
    // Every label stays off every other face's box.
    const hits = await page.locator('.stage .overlay').evaluate((layer) => {
      const r = (el: Element) => el.getBoundingClientRect();
      const meet = (a: DOMRect, b: DOMRect) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
      const out: string[] = [];
      for (const label of layer.querySelectorAll('.label'))
        for (const box of layer.querySelectorAll('.box'))
          if (box !== label.previousElementSibling && meet(r(label), r(box)))
            out.push(`label ${label.textContent} covers face ${box.getAttribute('data-face')}`);
      return out;
    });
    expect(hits).toEqual([]);
    await ctx.close();
  }, 120_000);

  it('at 390 px the token list shows when each token expires, without sideways scrolling', async () => {
    await d.auth.createToken('home-assistant', { scope: 'read', days: 90 });
    const { ctx, page } = await signedIn(390);
    await page.evaluate(() => (location.hash = '#/tokens'));
    const expires = page.locator('table.tokens td[data-label="Expires"]').first();
    await expires.waitFor();
    expect(await expires.isVisible()).toBe(true);
    expect(await expires.innerText()).toMatch(/\d/);
    expect(await expires.evaluate((td) => getComputedStyle(td, '::before').content)).toBe('"Expires"');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 60_000);
});
