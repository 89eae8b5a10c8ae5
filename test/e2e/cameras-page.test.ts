/**
 * Cameras from the page on a running appliance (startAppliance with its config file, real engine, real ffmpeg,
 * the GStreamer RTSP server, real Chromium at 1280 and 390 px): add a camera, Test shows a frame and its size,
 * save, it appears live; a wrong URL shows ffmpeg's error in a sentence; disable and remove. Meanwhile the other
 * camera (a still face, so its track never ends by itself) keeps its ffmpeg and its track.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium.js';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { startAppliance, type Appliance } from '../../src/app/appliance.js';
import { loadConfig } from '../../src/config/load.js';
import { ffmpegBinary } from '../../src/ingest/ffmpeg.js';
import type { RecognitionEvent } from '../../src/events/types.js';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { freePort } from '../helpers/ports.js';
import { hasRtspServer, RtspServer } from '../helpers/rtsp.js';
import { need } from '../helpers/prereqs.mjs';
import { captureLogger } from '../ingest/util.js';
import { NO_BROKER } from './appliance.js';

const hasChromium = need('the camera setup page tests in Chromium', 'chromium');
const SHOTS = path.join(repoRoot, 'test-results', 'web');
const PASSWORD = 'a long admin password';

async function until<T>(what: string, get: () => T | null | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasTestData || !hasRtspServer || !hasChromium)('camera setup page on a running appliance', () => {
  let dir: string;
  let file: string;
  let rtsp: RtspServer;
  let app: Appliance;
  let browser: Browser;
  let base: string;
  let logLines: Record<string, unknown>[];
  const events: RecognitionEvent[] = [];
  /** The door camera's track when the page starts changing cameras. */
  let doorTrack: string;

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-campage-'));
    // A still face as a looped video: its track lasts as long as the camera runs.
    const still = path.join(dir, 'still.mp4');
    const made = spawnSync(ffmpegBinary(), [
      '-v', 'error', '-loop', '1', '-i', dataPath('video', 'hamilton', 'lin-manuel-miranda.png'), '-t', '4', '-r', '10',
      '-vf', 'scale=640:-2', '-c:v', 'mpeg4', '-q:v', '3', '-y', still,
    ]); // prettier-ignore
    if (made.status !== 0) throw new Error(made.stderr.toString());
    rtsp = new RtspServer(dataPath('video', 'hamilton', 'short_hamilton_clip.mp4'), 20);
    await rtsp.start();
    const port = await freePort();
    file = path.join(dir, 'facegate.yaml');
    await writeFile(
      file,
      [
        '# front desk appliance',
        `dataDir: ${path.join(dir, 'data')}`,
        `engine: { enginesDir: ${path.join(repoRoot, 'engines')}, workers: 1 }`,
        'cameras:',
        '  - name: door # the still face',
        `    url: ${still}`,
        '    loop: true',
        'pipeline: { fps: 4 }',
        // A loaded machine may process frames late: only a change, never a slow tick, should end the door's track.
        'track: { endAfterSeconds: 10 }',
        `mqtt: { url: "${NO_BROKER}" }`,
        `web: { host: 127.0.0.1, port: ${port} }`,
        '',
      ].join('\n'),
    );
    const { log, lines } = captureLogger();
    logLines = lines;
    app = await startAppliance(loadConfig(file, {}), { log, configFile: file });
    app.bus.on('recognition', (ev) => void events.push(ev));
    base = `http://127.0.0.1:${port}`;
    // Claim it with the pending code (printed on stderr for the admin; kept in auth.json until used).
    const code = (JSON.parse(await readFile(path.join(dir, 'data', 'auth.json'), 'utf8')) as { claimCode: string }).claimCode;
    const res = await fetch(`${base}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ password: PASSWORD, claimCode: code }),
    });
    expect(res.status).toBe(200);
    browser = await launchChromium();
    doorTrack = await until('a track on the door camera', () => app.loop.latestFaces('door')?.boxes.find((b) => b.track)?.track, 90_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await rtsp?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const signedIn = async (width: number, height: number): Promise<{ page: Page; errors: string[] }> => {
    const page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => void (m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text())));
    await page.goto(`${base}/#/cameras/setup`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Camera setup', level: 1 }).waitFor();
    return { page, errors };
  };

  it('adds a camera: Test shows a frame and its size, Save starts it, it appears live (1280 px)', async () => {
    const { page, errors } = await signedIn(1280, 860);
    await page.getByText(`Changes are saved to ${file}`).waitFor();
    await page.getByRole('region', { name: 'Camera door' }).getByText('online').waitFor();

    await page.getByRole('button', { name: 'Add a camera' }).click();
    await page.getByLabel('Camera name').fill('stage');
    await page.getByLabel('Address (URL)').fill(rtsp.url);
    await page.getByLabel('User name').fill('viewer');
    await page.getByLabel('Password').fill('hunter22');
    await page.getByRole('button', { name: 'Test' }).click();
    const frame = page.getByRole('img', { name: 'Test frame from stage' });
    await frame.waitFor({ timeout: 30_000 });
    expect(await frame.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(640);
    await page.getByText(/^The camera answers: \d+×\d+ at [\d.]+ frames\/s .*; analysed at 640×\d+, 4 frames\/s\.$/).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'camera-test-1280.png'), fullPage: true });
    // Nothing is saved by a test.
    expect(await readFile(file, 'utf8')).not.toContain('stage');

    await page.getByRole('button', { name: 'Save' }).click();
    const card = page.getByRole('region', { name: 'Camera stage' });
    await card.waitFor();
    await card.getByText('rtsp://viewer:********@').waitFor();
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# the still face');
    expect(text).toContain('{secret:stage}@');
    expect(text).not.toContain('hunter22');

    // It appears live on the Cameras page, with a frame from the RTSP server.
    await page.getByRole('link', { name: 'Cameras', exact: true }).click();
    const live = page.getByRole('img', { name: 'Latest frame of stage' });
    await until('a live frame of stage', () => app.loop.latestFaces('stage'), 60_000);
    await expect.poll(() => live.evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 30_000 }).toBe(640);
    expect(await page.content()).not.toContain('hunter22');
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("a wrong URL shows ffmpeg's error in one sentence (390 px)", async () => {
    const { page, errors } = await signedIn(390, 844);
    await page.getByRole('button', { name: 'Add a camera' }).click();
    await page.getByLabel('Camera name').fill('gate');
    await page.getByLabel('Address (URL)').fill('rtsp://127.0.0.1:9/nothing');
    await page.getByRole('button', { name: 'Test' }).click();
    await page.getByText('Connection refused: nothing is listening at that address.', { exact: true }).waitFor();
    // A schema refusal names the field and the reason.
    await page.getByLabel('Frames per second').fill('90');
    await page.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('alert')
      .getByText(/cameras\[2\]\.fps: .*30/)
      .waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(SHOTS, 'camera-error-390.png'), fullPage: true });
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await readFile(file, 'utf8')).not.toContain('name: gate');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('disables and removes the new camera from the page; the door camera keeps its ffmpeg and its track', async () => {
    const { page } = await signedIn(1280, 860);
    const doorStatus = async () =>
      page.evaluate(async () =>
        ((await (await fetch('/api/cameras')).json()) as { cameras: { camera: string; restarts: number }[] }).cameras.find((c) => c.camera === 'door'),
      );
    const doorBefore = (await doorStatus())!;
    // Edit: the password field stays empty ("unchanged"), the stored one is used for Test and kept on Save.
    await page.getByRole('region', { name: 'Camera stage' }).getByRole('button', { name: 'Edit' }).click();
    expect(await page.getByLabel('User name').inputValue()).toBe('viewer');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await page.getByLabel('Password').getAttribute('placeholder')).toBe('unchanged');
    await page.getByLabel('Frames per second').fill('2');
    await page.getByRole('button', { name: 'Test' }).click();
    await page.getByText(/; analysed at 640×\d+, 2 frames\/s\.$/).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('region', { name: 'Camera stage' }).getByText('2 frames/s analysed').waitFor();
    expect(await readFile(file, 'utf8')).toMatch(/url: rtsp:\/\/\{secret:stage\}@127\.0\.0\.1:\d+\/stream\n\s+fps: 2/);
    expect(JSON.parse(await readFile(path.join(dir, 'data', 'camera-secrets.json'), 'utf8'))).toEqual({ stage: 'viewer:hunter22' });

    const card = page.getByRole('region', { name: 'Camera stage' });
    await card.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('region', { name: 'Camera stage' }).getByText('disabled', { exact: true }).waitFor();
    expect(await readFile(file, 'utf8')).toMatch(/enabled: false/);
    await page.getByRole('region', { name: 'Camera stage' }).getByRole('button', { name: 'Remove stage' }).click();
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByRole('region', { name: 'Camera stage' }).waitFor({ state: 'detached' });
    expect(loadConfig(file, {}).cameras.map((c) => c.name)).toEqual(['door']);
    const removedAt = Date.now();

    // The door camera: same ffmpeg (no restart), its track from before every change still open on new frames.
    await until('a door frame after the removal', () => (app.loop.latestFaces('door')?.time ?? 0) > removedAt + 500, 30_000);
    expect(app.loop.latestFaces('door')!.boxes.map((b) => b.track)).toContain(doorTrack);
    expect(events.filter((e) => e.camera === 'door' && e.type === 'end')).toEqual([]);
    expect((await doorStatus())!.restarts).toBe(doorBefore.restarts);
    // The removed camera's tracks all ended.
    const stageTracks = new Set(events.filter((e) => e.camera === 'stage').map((e) => e.track));
    for (const t of stageTracks) expect(events.some((e) => e.track === t && e.type === 'end')).toBe(true);
    expect(JSON.stringify(logLines)).not.toContain('hunter22');
    await page.close();
  }, 90_000);
});
