/**
 * The admin page in a real Chromium over HTTPS (the certificate the appliance made, pinned by its key): claiming,
 * return after sign-in, an unreachable appliance, the training flow (double click, look-alike warning, capture
 * that fails, ticked cluster faces, Dismiss confirm) and the live overlay drawn by the page at 390 px wide.
 */
import { OPEN_GATE } from '../../src/engine/largest.js';
import { launchChromium } from '../helpers/chromium.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { recognitionEvent } from './events.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { buildDeps, readRgb, type TestDeps } from './deps.js';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'a long admin password';
const bbt = (...p: string[]) => dataPath('identity', 'bbt', ...p);
const unit = (k: number, j = -1) => {
  const v = new Float32Array(32);
  v[k] = 1;
  if (j >= 0) v[j] = 0.25;
  return v;
};

describe.skipIf(!hasTestData || !existsSync(CHROMIUM))('admin page flows in chromium over HTTPS', () => {
  let d: TestDeps;
  let server: WebServer;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let gatedCount = 0;
  const errors: string[] = [];

  const watch = (p: Page) => {
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
  };
  const signIn = async (p: Page) => {
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
  };
  const samplesOf = async (name: string) => {
    const p = await d.facebank.findByName(name);
    return p ? (await d.facebank.samples(p.id)).length : -1;
  };

  beforeAll(async () => {
    d = await buildDeps({ web: { host: '127.0.0.1', port: 0, https: 'on' } });
    // The still camera as the pipeline reports it: one face named, one unknown, the rest gated out.
    // The gate's size floor sits just above the smallest face, so that at least one face is gated out whichever
    // detector runs (every face of this photo passes the default gate with YuNet).
    const [all] = await d.engine.analyze([d.cameras.frame], OPEN_GATE);
    const minSize = Math.ceil(Math.min(...all!.faces.map((f) => Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1])))) + 1;
    const [r] = await d.engine.analyze([d.cameras.frame], { ...d.config.pipeline.quality, minSize });
    const right = [...r!.faces].sort((a, b) => b.box[2] - a.box[2]);
    gatedCount = r!.rejected.length;
    d.cameras.faces = [
      // The rightmost face gets a long name: its label must move left to stay in the frame.
      { box: right[0]!.box, label: 'Lin-Manuel Miranda', similarity: 0.71 },
      ...right.slice(1, -1).map((f) => ({ box: f.box, label: null, similarity: 0.12 })),
      { box: right.at(-1)!.box, label: 'Leonard', similarity: 0.66 },
      ...r!.rejected.map((f) => ({ box: f.box, label: null, similarity: null, gated: f.reason })),
    ];
    // Unknown faces: a group of three and a group of two.
    const snap = async (file: string) => d.snapshots.save(await readRgb(file));
    const unknown = async (file: string, e: Float32Array) => d.bus.emit('recognition', recognitionEvent({ snapshot: await snap(file) }), { embedding: e });
    await unknown(bbt('howard', 'howard1.png'), unit(0));
    await unknown(bbt('howard', 'howard2.png'), unit(0, 7));
    await unknown(bbt('howard', 'howard3.png'), unit(0, 8));
    await unknown(bbt('stuart', 'stuart1.png'), unit(9));
    await unknown(bbt('stuart', 'stuart2.png'), unit(9, 3));
    server = await startWebServer(d);
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${server.spkiHash}`]); // trust exactly the appliance's own certificate (its public key), nothing else;
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await ctx.newPage();
    watch(page);
  }, 120_000);

  afterAll(async () => {
    vi.useRealTimers();
    await browser?.close();
    await server?.close();
    await d?.cleanup();
  });

  it('claims the appliance over HTTPS: a wrong claim code is refused, the right one sets the password', async () => {
    expect(server.url).toMatch(/^https:/);
    await page.goto(server.url + '/');
    await page.getByRole('heading', { name: 'Claim this appliance' }).waitFor();
    expect(await page.evaluate(() => location.protocol)).toBe('https:');
    await page.getByLabel('Claim code').fill('ZZZZ-ZZZZ-ZZZZ');
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('That claim code is not right').waitFor();
    expect(d.auth.hasPassword()).toBe(false);
    await page.getByLabel('Claim code').fill(d.auth.pendingClaimCode()!.toLowerCase());
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    expect(d.auth.hasPassword()).toBe(true);
  }, 60_000);

  it('after the session ends, signing in returns to the page you were on', async () => {
    await page.evaluate(() => (location.hash = '#/unknowns'));
    await page.getByRole('heading', { name: 'Unknown faces' }).waitFor();
    await d.auth.endAllSessions();
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(page);
    await page.getByRole('heading', { name: 'Recent decisions' }).waitFor();
    expect(await page.evaluate(() => location.hash)).toBe('#/events');
  }, 60_000);

  it('says "Cannot reach the appliance" instead of a raw network error', async () => {
    await page.route('**/api/people', (r) => r.abort('connectionrefused'));
    await page.evaluate(() => (location.hash = '#/people'));
    await page.getByRole('heading', { name: 'Cannot reach the appliance' }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain('Failed to fetch');
    await page.unroute('**/api/people');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'People', exact: true }).waitFor();
  }, 60_000);

  it('a double click on a face of a group photo adds one sample', async () => {
    await page.getByLabel('New person').fill('Raj');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByRole('heading', { name: 'Raj' }).waitFor();
    await page.locator('#pick').setInputFiles([bbt('bbt1.jpg')]);
    const pick = page.getByRole('group', { name: 'Pick the face to add' });
    await pick.waitFor({ timeout: 30_000 });
    await pick.getByRole('button', { name: 'Use face 1', exact: true }).dblclick();
    await pick.getByText('Added.').waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    expect(await samplesOf('Raj')).toBe(1);
    await expect.poll(() => page.locator('.samples img').count()).toBe(1);
  }, 60_000);

  it('warns when an uploaded face looks like another enrolled person, and offers the choice', async () => {
    await page.getByRole('link', { name: 'People', exact: true }).click();
    await page.getByLabel('New person').fill('Newcomer');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByRole('heading', { name: 'Newcomer' }).waitFor();
    await page.locator('#pick').setInputFiles([bbt('raj', 'raj1.png')]);
    const warning = page.locator('.results li', { hasText: 'looks more like Raj' });
    await warning.waitFor({ timeout: 30_000 });
    expect(await samplesOf('Newcomer')).toBe(0);
    await warning.getByRole('button', { name: 'Add to Raj instead' }).click();
    await page.locator('.results li', { hasText: 'Raj: Added' }).waitFor({ timeout: 30_000 });
    expect(await samplesOf('Raj')).toBe(2);
    expect(await samplesOf('Newcomer')).toBe(0);
  }, 60_000);

  it('a file that is not a photo gets no broken preview', async () => {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/fg-notphoto-');
    await writeFile(`${dir}/holiday.jpg`, 'just some text, not a JPEG at all');
    await page.locator('#pick').setInputFiles([`${dir}/holiday.jpg`]);
    const item = page.locator('.results li', { hasText: 'holiday.jpg' });
    await item.getByText('Not a photo').waitFor({ timeout: 30_000 });
    expect(await item.locator('img').count()).toBe(0);
    expect(await item.locator('.avatar').textContent()).toBe('?');
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('a capture into a new person that fails (expired) creates nobody; the retry works', async () => {
    await page.getByRole('link', { name: 'Cameras' }).click();
    await page.getByRole('button', { name: 'Capture from camera' }).click();
    const faces = page.getByRole('group', { name: 'Faces in the frame' });
    await faces.waitFor({ timeout: 30_000 });
    // A face that is nobody's yet (Raj's, enrolled from this photo, would need a confirmation).
    await faces.getByRole('button').filter({ hasNotText: 'Raj' }).first().click();
    await page.getByLabel('Add to').selectOption({ label: 'New person…' });
    await page.getByLabel('New person’s name').fill('Ghost Person');
    const before = (await d.facebank.people()).length;
    // Six minutes pass on the appliance: the capture expires.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 6 * 60_000);
    try {
      await page.getByRole('button', { name: 'Add face' }).click();
      await page.getByText('That capture has expired').waitFor();
    } finally {
      vi.useRealTimers();
    }
    expect(await d.facebank.findByName('Ghost Person')).toBeNull();
    expect((await d.facebank.people()).length).toBe(before);
    await page.getByRole('button', { name: 'Back to live' }).click();
    await page.getByRole('button', { name: 'Capture from camera' }).click();
    await faces.waitFor({ timeout: 30_000 });
    // A face that is nobody's yet (Raj's, enrolled from this photo, would need a confirmation).
    await faces.getByRole('button').filter({ hasNotText: 'Raj' }).first().click();
    await page.getByLabel('Add to').selectOption({ label: 'New person…' });
    await page.getByLabel('New person’s name').fill('Ghost Person');
    await page.getByRole('button', { name: 'Add face' }).click();
    await page.getByText('Ghost Person is enrolled').waitFor({ timeout: 30_000 });
    expect(await samplesOf('Ghost Person')).toBe(1);
  }, 90_000);

  it('naming a group shows every face with a tick box; only the ticked ones are enrolled', async () => {
    await page.getByRole('link', { name: 'Unknowns' }).click();
    const group = page.locator('.clusters article', { hasText: '3 sightings' });
    await group.waitFor();
    const boxes = group.getByRole('checkbox');
    expect(await boxes.count()).toBe(3);
    await boxes.nth(2).uncheck();
    await group.getByLabel('Who is this?').fill('Howard');
    await group.getByRole('button', { name: 'Name 2 faces' }).click();
    await page.getByText('2 faces added to Howard').waitFor();
    expect(await samplesOf('Howard')).toBe(2);
    expect(d.unknowns.list().length).toBe(3);
  }, 60_000);

  it('Dismiss asks first; Keep keeps the faces, the confirm forgets them', async () => {
    const group = page.locator('.clusters article', { hasText: '2 sightings' });
    await group.waitFor();
    await group.getByRole('button', { name: 'Dismiss', exact: true }).click();
    const ask = group.getByRole('group', { name: /Forget all 2 faces/ });
    await ask.waitFor();
    expect(d.unknowns.list().length).toBe(3);
    await ask.getByRole('button', { name: 'Keep' }).click();
    expect(d.unknowns.list().length).toBe(3);
    await group.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await ask.getByRole('button', { name: 'Dismiss 2 faces' }).click();
    await expect.poll(() => d.unknowns.list().length).toBe(1);
  }, 60_000);

  it('recent faces: tick several and assign them to a person', async () => {
    const before = await samplesOf('Howard');
    await page.getByRole('link', { name: 'Faces', exact: true }).click();
    const gallery = page.getByRole('group', { name: 'Recent faces' });
    await gallery.waitFor();
    const boxes = gallery.getByRole('checkbox');
    expect(await boxes.count()).toBe(5);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByLabel('These faces are').selectOption({ label: 'Howard' });
    await page.getByRole('button', { name: 'Assign 2 faces' }).click();
    await page.getByText('2 faces added to Howard').waitFor();
    expect(await samplesOf('Howard')).toBe(before + 2);
    await expect.poll(() => page.getByRole('group', { name: 'Recent faces' }).getByRole('checkbox').count()).toBe(3);
  }, 60_000);

  it('at 390 px wide, the page draws readable labels inside the frame; gated faces are styled apart', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watch(p);
    await p.goto(server.url + '/#/cameras');
    await signIn(p);
    const stage = p.locator('.stage').first();
    await p.locator('.overlay .label.known', { hasText: 'Lin-Manuel Miranda' }).waitFor({ timeout: 30_000 });
    const labels = await p.locator('.overlay .label').evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        const s = e.closest('.stage')!.getBoundingClientRect();
        return {
          text: e.textContent,
          kind: e.className,
          inside: r.left >= s.left - 0.5 && r.right <= s.right + 0.5 && r.top >= s.top - 0.5 && r.bottom <= s.bottom + 0.5,
          whole: (e as HTMLElement).scrollWidth <= (e as HTMLElement).clientWidth,
          font: parseFloat(getComputedStyle(e).fontSize),
        };
      }),
    );
    expect(labels.map((l) => l.text).sort()).toEqual(['Leonard', 'Lin-Manuel Miranda', ...Array(labels.length - 2).fill('Unknown')].sort());
    for (const l of labels) {
      expect(l.inside, `${l.text} is cut off by the frame edge`).toBe(true);
      expect(l.whole, `${l.text} is truncated`).toBe(true);
      expect(l.font).toBeGreaterThanOrEqual(12);
    }
    // Gated faces: dashed boxes without a label, unlike unknown faces (solid box, "Unknown").
    expect(await p.locator('.overlay .box.gated').count()).toBe(gatedCount);
    expect(gatedCount).toBeGreaterThan(0);
    expect(
      await p
        .locator('.overlay .box.gated')
        .first()
        .evaluate((e) => getComputedStyle(e).borderTopStyle),
    ).toBe('dashed');
    expect(
      await p
        .locator('.overlay .box.unknown')
        .first()
        .evaluate((e) => getComputedStyle(e).borderTopStyle),
    ).toBe('solid');
    expect(await stage.locator('img.frame').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(d.cameras.frame.width);
    expect(await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);

    // Capture freezes the frame with numbered boxes; picking Raj's face pre-selects Raj.
    await p.getByRole('button', { name: 'Capture from camera' }).click();
    const faces = p.getByRole('group', { name: 'Faces in the frame' });
    await faces.waitFor({ timeout: 30_000 });
    expect(await stage.getAttribute('class')).toContain('frozen');
    const numbered = await p.locator('.overlay .label.numbered').allTextContents();
    expect(numbered.length).toBe(await faces.getByRole('button').count());
    expect(numbered.every((t) => /^\d+$/.test(t))).toBe(true);
    await faces.getByRole('button', { name: /Raj/ }).first().click();
    expect(await p.getByLabel('Add to').evaluate((s: HTMLSelectElement) => s.selectedOptions[0]!.textContent)).toBe('Raj');
    await phone.close();
  }, 90_000);

  it('tokens: scope and expiry are chosen, the new secret has a copy button; Revoke does not wrap on a phone', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await phone.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const p = await phone.newPage();
    watch(p);
    await p.goto(server.url + '/#/tokens');
    await signIn(p);
    await p.getByLabel('New token for').fill('dashboard');
    await p.getByLabel('Allowed to').selectOption('read');
    await p.getByLabel('Expires after').selectOption({ label: '30 days' });
    await p.getByRole('button', { name: 'Create token' }).click();
    const secret = await p.locator('code.secret').textContent();
    expect(secret).toMatch(/^fgt_/);
    await p.getByRole('button', { name: 'Copy' }).click();
    await p.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const row = p.locator('tbody tr', { hasText: 'dashboard' });
    expect(await row.locator('td').nth(1).textContent()).toBe('read');
    const revoke = row.getByRole('button', { name: 'Revoke token dashboard' });
    const lines = await revoke.evaluate((b) => Math.round(b.getBoundingClientRect().height / parseFloat(getComputedStyle(b).lineHeight || '20')));
    expect(lines).toBeLessThanOrEqual(2);
    expect(await revoke.evaluate((b) => b.scrollWidth <= b.clientWidth)).toBe(true);
    const [token] = d.auth.tokens();
    expect(token).toMatchObject({ name: 'dashboard', scope: 'read' });
    expect(Date.parse(token!.expires!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    await phone.close();
    expect(errors).toEqual([]);
  }, 60_000);
});
