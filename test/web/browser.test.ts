/** The admin page in a real chromium (playwright-core): the enrolment flow, cameras, events, unknowns, tokens. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { recognitionEvent } from './events.js';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { buildDeps, readRgb, type TestDeps } from './deps.js';
import { LiveCameras } from './live-camera.js';
import { Bus } from '../../src/events/bus.js';
import { need } from '../helpers/prereqs.mjs';

const hasChromium = need('the admin page tests in Chromium', 'chromium');
const SHOTS = path.join(repoRoot, 'test-results', 'web');
const PASSWORD = 'a long admin password';
const bbt = (...p: string[]) => dataPath('identity', 'bbt', ...p);

const event: typeof recognitionEvent = (over) =>
  recognitionEvent({ similarity: 0.32, quality: { size: 80, score: 0.9, blur: 120, yaw: 0, pitch: 0, roll: 0 }, ...over });
const unit = (k: number, j = -1) => {
  const v = new Float32Array(32);
  v[k] = 1;
  if (j >= 0) v[j] = 0.2;
  return v;
};

describe.skipIf(!hasTestData || !hasChromium)('admin page in chromium', () => {
  let d: TestDeps<LiveCameras>;
  let server: WebServer;
  let base: string;
  let browser: Browser;
  const errors: string[] = [];

  const watch = (page: Page) => {
    // Failed requests are judged by their responses below (a wrong password's 401 is expected).
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });
    page.on('response', (r) => {
      // Expected refusals: a wrong password, and the warning that a captured face looks like someone enrolled.
      const expected = (r.status() === 401 && r.url().endsWith('/api/login')) || (r.status() === 422 && r.url().endsWith('/api/captures/enrol'));
      if (r.status() >= 400 && !expected) errors.push(`${r.status()} ${r.url()}`);
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (dlg) => void dlg.accept());
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    // A real camera: ffmpeg loops the Hamilton clip into the pipeline loop, which names the enrolled Lin-Manuel Miranda.
    d = await buildDeps({ web: { host: '127.0.0.1', port: 0 }, cameras: new LiveCameras('door') });
    const lin = await d.facebank.createPerson('Lin-Manuel Miranda');
    const [r] = await d.engine.analyze([await readRgb(dataPath('video', 'hamilton', 'lin-manuel-miranda.png'))]);
    await d.facebank.addSample(lin.id, {
      embedding: r!.faces[0]!.embedding,
      modelId: d.engine.embedderId,
      quality: r!.faces[0]!.quality,
      source: 'cli',
      crop: r!.faces[0]!.aligned,
    });
    d.cameras.start({ ...d, bus: new Bus() }); // its recognitions stay out of this test's event list
    const leonard = await d.facebank.createPerson('Leonard');
    const snap = async (file: string) => d.snapshots.save(await readRgb(file));
    d.bus.emit('recognition', event({ person: { id: leonard.id, name: 'Leonard' }, similarity: 0.58, snapshot: await snap(bbt('raj', 'raj1.png')) }), {
      embedding: unit(3),
    });
    d.bus.emit('recognition', event({ person: { id: leonard.id, name: 'Leonard' }, similarity: 0.71, snapshot: await snap(bbt('leonard', 'leonard1.png')) }), {
      embedding: unit(4),
    });
    d.bus.emit('recognition', event({ camera: 'door', snapshot: await snap(bbt('howard', 'howard1.png')) }), { embedding: unit(0) });
    d.bus.emit('recognition', event({ camera: 'door', snapshot: await snap(bbt('howard', 'howard2.png')) }), { embedding: unit(0, 7) });
    d.bus.emit('recognition', event({ camera: 'door', snapshot: await snap(bbt('stuart', 'stuart1.png')) }), { embedding: unit(9) });
    server = await startWebServer(d);
    base = server.url;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await d?.cameras.stop();
    await d?.cleanup();
  });

  it('runs the enrolment flow end to end (desktop)', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    watch(page);
    await page.goto(base + '/');

    // First run: set the password.
    await page.getByRole('heading', { name: 'Claim this appliance' }).waitFor();
    expect(await page.getByRole('navigation').isVisible()).toBe(false);
    await shot(page, 'setup');
    await page.getByLabel('Claim code').fill(d.auth.pendingClaimCode()!);
    await page.getByLabel('New password').fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();

    // Sign out, then sign in with the keyboard only.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Password').fill('not the password');
    await page.keyboard.press('Enter');
    await page.getByText('That password is not right.').waitFor();
    expect(await page.getByRole('navigation').isVisible()).toBe(false);
    await shot(page, 'login');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'People' }).waitFor();

    // Create a person and upload two photos with the file picker.
    await page.getByLabel('New person').fill('Sheldon Cooper');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByRole('heading', { name: 'Sheldon Cooper' }).waitFor();
    await page.locator('#pick').setInputFiles([bbt('sheldon', 'sheldon1.png'), bbt('sheldon', 'sheldon2.png')]);
    await expect.poll(() => page.locator('.results .ok').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => page.locator('.samples img').count()).toBe(2);
    // A group photo asks which face; picking one adds it.
    await page.locator('#pick').setInputFiles([bbt('bbt1.jpg')]);
    await page.getByRole('group', { name: 'Pick the face to add' }).waitFor({ timeout: 30_000 });
    await shot(page, 'person');
    await page.getByRole('button', { name: 'Use face 1', exact: true }).click();
    await expect.poll(() => page.locator('.samples img').count(), { timeout: 30_000 }).toBe(3);

    // The people list shows the person with an avatar picture.
    await page.getByRole('link', { name: 'People', exact: true }).click();
    const card = page.getByRole('link', { name: /Sheldon Cooper/ });
    await card.waitFor();
    await expect.poll(() => card.locator('img.avatar').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
    await shot(page, 'people');
    // The threshold in words, for a person, and the number the live matcher uses.
    const point = await d.enrol.operatingPoint();
    const shown = await page.locator('#operating-point').textContent();
    expect(shown).toBe(point.sentence);
    expect(
      shown!.startsWith(
        `A face gets a name when it is at least ${Math.round(point.threshold * 100)} % alike one person's photos ` +
          `(set for 2 people enrolled, so about 1 stranger in 1,000 is misnamed).`,
      ),
    ).toBe(true);

    // Cameras: live frames from the real camera, with the named face's label drawn by the page.
    await d.cameras.waitFor((l) => l.boxes.some((b) => b.label === 'Lin-Manuel Miranda'), 60_000, 'Lin-Manuel Miranda named');
    await page.getByRole('link', { name: 'Cameras' }).click();
    const frame = page.locator('img.frame');
    await expect.poll(() => frame.evaluate((i: HTMLImageElement) => i.naturalWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    // The page draws the boxes and labels over the plain frame; the frame itself changes while the video plays.
    await page.locator('.overlay .label.known', { hasText: 'Lin-Manuel Miranda' }).waitFor({ timeout: 30_000 });
    const look = () =>
      frame.evaluate((i: HTMLImageElement) => {
        const c = document.createElement('canvas');
        c.width = i.naturalWidth;
        c.height = i.naturalHeight;
        const g = c.getContext('2d')!;
        g.drawImage(i, 0, 0);
        const px = g.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        for (let k = 0; k < px.length; k += 4) sum = (sum + px[k]! * (k % 9973)) % 1_000_000_007;
        return sum;
      });
    const first = await look();
    await expect.poll(look, { timeout: 15_000 }).not.toBe(first);
    expect(await page.locator('.camera .tag').first().textContent()).toBe('online');
    await shot(page, 'cameras');
    // Capture from the camera (again when the frame holds no usable face of Lin-Manuel Miranda: the clip moves on to
    // other people, and a loaded machine captures later in it), pick his face, add it to Sheldon.
    const linManuel = page.getByRole('group', { name: 'Faces in the frame' }).getByRole('button', { name: /Lin-Manuel Miranda/ });
    for (let i = 0; !(await linManuel.count()); i++) {
      expect(i, 'captures without a usable face of Lin-Manuel Miranda').toBeLessThan(30);
      await page.getByRole('button', { name: 'Capture from camera' }).click();
      await expect.poll(() => page.getByText('Looking for faces…').count(), { timeout: 30_000 }).toBe(0);
    }
    await linManuel.first().click();
    await page.getByLabel('Add to').selectOption({ label: 'Sheldon Cooper' });
    await shot(page, 'capture');
    // The face is Lin-Manuel Miranda's, who is enrolled: the page says so and asks before adding it to Sheldon.
    await page.getByRole('button', { name: 'Add face' }).click();
    await page.getByText(/looks more like Lin-Manuel Miranda \(\d+ % alike\)/).waitFor();
    await page.getByRole('button', { name: 'Add anyway' }).click();
    await page.getByText('Face added.').waitFor();
    // Its toast offers Undo, which takes the face back.
    const sheldonCount = async () => (await d.facebank.samples((await d.facebank.findByName('Sheldon Cooper'))!.id)).length;
    const withCapture = await sheldonCount();
    await page.locator('#toast').getByRole('button', { name: 'Undo' }).click();
    await page.locator('#toast', { hasText: 'Undone.' }).waitFor();
    expect(await sheldonCount()).toBe(withCapture - 1);
    // The camera's loop shares the engine with enrolment: stop it (its last frame stays) so the rest is not slowed.
    await d.cameras.stop();

    // Events: mark a wrong decision; reassign it.
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Recent decisions' }).waitFor();
    await expect.poll(() => page.locator('.event').count()).toBe(5);
    const leoEvent = page.locator('.event', { hasText: '0.58' });
    await leoEvent.getByRole('button', { name: 'Wrong person' }).click();
    await leoEvent.getByLabel('This is').selectOption({ label: 'Sheldon Cooper' });
    await shot(page, 'events');
    await leoEvent.getByRole('button', { name: 'Reassign' }).click();
    // Corrected, the event shows what was done and an Undo, and no correction button any more.
    const fixed = page.locator('.event', { hasText: '0.58' });
    await fixed.getByText('given to Sheldon Cooper').waitFor();
    expect(await fixed.getByRole('button', { name: 'Wrong person' }).count()).toBe(0);
    const beforeUndo = await sheldonCount();
    await fixed.getByRole('button', { name: 'Undo' }).click();
    await page.locator('.event', { hasText: '0.58' }).getByRole('button', { name: 'Wrong person' }).waitFor();
    expect(await sheldonCount()).toBe(beforeUndo - 1);
    // "Not Leonard" asks first; its toast has an Undo; done again, it stays.
    const other = page.locator('.event', { hasText: '0.71' });
    const notLeonard = async () => {
      await other.getByRole('button', { name: 'Wrong person' }).click();
      await other.getByRole('button', { name: 'Not Leonard' }).click();
      await other.getByText('Mark this face as not Leonard?').waitFor();
      await other.getByRole('group', { name: 'Mark this face as not Leonard?' }).getByRole('button', { name: 'Not Leonard' }).click();
      await page.locator('.event', { hasText: '0.71' }).getByText('marked not Leonard').waitFor();
    };
    await notLeonard();
    const leonardId = (await d.facebank.findByName('Leonard'))!.id;
    expect((await d.facebank.samples(leonardId)).map((s) => s.negative)).toEqual([true]);
    await page.locator('#toast').getByRole('button', { name: 'Undo' }).click();
    await page.locator('.event', { hasText: '0.71' }).getByRole('button', { name: 'Wrong person' }).waitFor();
    expect(await d.facebank.samples(leonardId)).toEqual([]);
    await notLeonard();
    const leoSamples = await d.facebank.samples(leonardId);
    expect(leoSamples.map((s) => s.negative)).toEqual([true]);
    // An unnamed face is never called a match, whatever its similarity.
    for (const t of await page.locator('.event', { hasText: 'Unknown' }).allTextContents()) expect(t).not.toMatch(/· (sure )?match \(/);

    // Unknowns: name the bigger cluster.
    await page.getByRole('link', { name: 'Unknowns' }).click();
    await expect.poll(() => page.locator('.clusters article').count()).toBe(2);
    await shot(page, 'unknowns');
    const big = page.locator('.clusters article', { hasText: '2 sightings' });
    await big.getByLabel('Who is this?').fill('Howard');
    await big.getByRole('button', { name: 'Name' }).click();
    await expect.poll(() => page.locator('.clusters article').count()).toBe(1);
    const howard = await d.facebank.findByName('Howard');
    expect((await d.facebank.samples(howard!.id)).length).toBe(2);

    // Faces: the events of one track are one tile.
    const visit = `yard-${Date.now()}`;
    for (const n of [1, 2, 3])
      d.bus.emit(
        'recognition',
        event({
          camera: 'yard',
          track: visit,
          person: { id: leonardId, name: 'Leonard' },
          snapshot: await d.snapshots.save(await readRgb(bbt('penny', `penny${n}.png`))),
        }),
        {
          embedding: unit(11),
        },
      );
    await page.getByRole('link', { name: 'Faces' }).click();
    await page.getByRole('group', { name: 'Recent faces' }).waitFor();
    expect(await page.locator('.gallery label[title^="yard"]').count()).toBe(1);

    // Changes: the list of recent changes; Undo of the group naming removes Howard and brings the faces back.
    await page.getByRole('link', { name: 'Changes' }).click();
    const named = page.locator('li', { hasText: 'Named 2 unknown faces Howard.' });
    await named.waitFor();
    await shot(page, 'changes');
    await named.getByRole('button', { name: 'Undo' }).click();
    await page.locator('li', { hasText: 'Named 2 unknown faces Howard.' }).getByText('undone').waitFor();
    expect(await d.facebank.findByName('Howard')).toBeNull();
    await page.getByRole('link', { name: 'Unknowns' }).click();
    await expect.poll(() => page.locator('.clusters article').count()).toBe(2);

    // Tokens: the secret is shown once.
    await page.getByRole('link', { name: 'Tokens' }).click();
    await page.getByLabel('New token for').fill('home-assistant');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('code.secret').waitFor();
    expect(await page.locator('code.secret').textContent()).toMatch(/^fgt_/);
    await shot(page, 'tokens');

    // Delete the person (the confirm dialog is accepted).
    await page.getByRole('link', { name: 'People', exact: true }).click();
    await page.getByRole('link', { name: /Sheldon Cooper/ }).click();
    await page.getByRole('button', { name: 'Delete person' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await expect.poll(() => page.getByRole('link', { name: /Sheldon Cooper/ }).count()).toBe(0);
    expect(await d.facebank.findByName('Sheldon Cooper')).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('fits a 390 px phone screen on every page and works with the keyboard', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    watch(page);
    await page.goto(base + '/');
    if (await page.getByLabel('Repeat the password').count()) {
      await page.getByLabel('New password').fill(PASSWORD);
      await page.getByLabel('Repeat the password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Set password' }).click();
    } else {
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
    await page.getByRole('heading', { name: 'People' }).waitFor();
    // A person with photos for the person page.
    await page.getByLabel('New person').fill('Amy');
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByRole('heading', { name: 'Amy' }).waitFor();
    await page.locator('#pick').setInputFiles([bbt('amy', 'amy1.png'), bbt('amy', 'amy2.png')]);
    await expect.poll(() => page.locator('.samples img').count(), { timeout: 30_000 }).toBe(2);
    // The camera picker is there for phones.
    expect(await page.locator('input[type=file][capture=user]').getAttribute('accept')).toBe('image/*');
    for (const [hash, name, ready] of [
      ['', 'm-person', '.samples img'],
      ['#/people', 'm-people', '.person'],
      ['#/cameras', 'm-cameras', 'img.frame'],
      ['#/events', 'm-events', '.event'],
      ['#/unknowns', 'm-unknowns', 'h1'],
      ['#/changes', 'm-changes', 'h1'],
      ['#/tokens', 'm-tokens', 'table'],
    ] as const) {
      if (hash) await page.evaluate((h) => (location.hash = h), hash);
      await page.locator(ready).first().waitFor();
      if (hash === '#/cameras') {
        await expect.poll(() => page.locator('img.frame').evaluate((i: HTMLImageElement) => i.naturalWidth)).toBeGreaterThan(0);
      }
      await page.waitForTimeout(150);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} is wider than the screen`).toBeLessThanOrEqual(0);
      await shot(page, name);
    }
    // Keyboard: Tab reaches the nav links with a visible focus ring.
    await page.evaluate(() => (location.hash = '#/people'));
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await page.locator('a.skip').focus();
    let reached = false;
    for (let i = 0; i < 8 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.textContent === 'Cameras');
    }
    expect(reached).toBe(true);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Cameras' }).waitFor();
    // Every button has a name.
    const nameless = await page.evaluate(
      () => Array.from(document.querySelectorAll('button')).filter((b) => !(b.textContent?.trim() || b.getAttribute('aria-label'))).length,
    );
    expect(nameless).toBe(0);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 120_000);
});
