import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, stat, readdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import path from 'node:path';
import sharp from 'sharp';
import { Hono } from 'hono';
import { createApp } from '../../src/web/app.js';
import { ROUTE_LIST } from '../../src/web/openapi.js';
import { errorReasons } from '../../src/errors/codes.js';
import { createLogger } from '../../src/util/log.js';
import { recognitionEvent } from './events.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { buildDeps, readRgb, type TestDeps } from './deps.js';
import { LiveCameras } from './live-camera.js';
import { TestClient, testClientIp } from './client.js';

const PASSWORD = 'correct horse battery';
const bbt = (...p: string[]) => dataPath('identity', 'bbt', ...p);

const form = (files: { name: string; data: Uint8Array; type?: string }[]) => {
  const f = new FormData();
  for (const x of files) f.append('photos', new Blob([new Uint8Array(x.data)], { type: x.type ?? 'application/octet-stream' }), x.name);
  return f;
};
const file = async (p: string) => ({ name: path.basename(p), data: new Uint8Array(await readFile(p)) });
const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

const event = recognitionEvent;

describe.skipIf(!hasTestData)('web API', () => {
  let d: TestDeps;
  let app: ReturnType<typeof createApp>;
  let logText = '';

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _e, cb) {
        logText += String(chunk);
        cb();
      },
    });
    d = await buildDeps({ web: { maxUploadBytes: 300_000, maxPixels: 1_500_000, maxRequestBytes: 3_000_000 }, log: createLogger('debug', sink) });
    app = createApp({ ...d, clientIp: testClientIp });
  }, 60_000);
  afterAll(() => d?.cleanup());

  describe('first run and sign-in', () => {
    it('only setup works until the password is set', async () => {
      const c = new TestClient(app);
      const st = await (await c.req('GET', '/api/session-status')).json();
      expect(st).toMatchObject({ setupRequired: true, authenticated: false });
      const people = await c.req('GET', '/api/people');
      expect(people.status).toBe(401);
      expect(await people.json()).toMatchObject({ error: 'setup_required' });
      expect((await c.req('POST', '/api/login', { json: { password: PASSWORD } })).status).toBe(409);
      const code = d.auth.pendingClaimCode()!;
      const short = await c.signIn('short', '/api/setup', code);
      expect(short.status).toBe(422);
      const ok = await c.signIn(PASSWORD, '/api/setup', code);
      expect(ok.status).toBe(200);
      const cookie = ok.headers.get('set-cookie')!;
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Strict/i);
      expect(cookie).toMatch(/Path=\//);
      expect(cookie).not.toMatch(/Secure/i);
      expect((await c.req('GET', '/api/people')).status).toBe(200);
      const again = await new TestClient(app).signIn('another password!', '/api/setup', code);
      expect(again.status).toBe(409);
    });

    it('auth.json is private and holds no secret in clear', async () => {
      await d.auth.flush();
      const f = path.join(d.config.dataDir, 'auth.json');
      expect((await stat(f)).mode & 0o777).toBe(0o600);
      const text = await readFile(f, 'utf8');
      expect(text).not.toContain(PASSWORD);
      expect(JSON.parse(text).passwordHash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[^$]+\$[^$]+$/);
    });

    it('wrong password is 401, right one gives a session and CSRF token; https cookies are Secure', async () => {
      const c = new TestClient(app);
      const bad = await c.signIn('wrong password here');
      expect(bad.status).toBe(401);
      expect(await bad.json()).toMatchObject({ error: 'bad_password' });
      expect((await c.req('GET', '/api/people')).status).toBe(401);
      const s = new TestClient(app, 'https://facegate.local');
      const ok = await s.signIn(PASSWORD);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
      expect(s.csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const st = await (await s.req('GET', '/api/session-status')).json();
      expect(st).toMatchObject({ authenticated: true, csrfToken: s.csrf });
      expect((await s.req('POST', '/api/logout')).status).toBe(200);
      expect(s.cookie).toBeNull();
    });

    it('rate-limits sign-in attempts per client: 429 with Retry-After', async () => {
      const other = await buildDeps({ password: PASSWORD });
      try {
        const a = createApp({ ...other, clientIp: testClientIp });
        const c = new TestClient(a);
        for (let i = 0; i < 5; i++)
          expect((await c.req('POST', '/api/login', { json: { password: 'nope nope nope' }, headers: { 'x-test-ip': '10.0.0.1' } })).status).toBe(401);
        const r = await c.req('POST', '/api/login', { json: { password: PASSWORD }, headers: { 'x-test-ip': '10.0.0.1' } });
        expect(r.status).toBe(429);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await r.json()).toMatchObject({ error: 'rate_limited' });
        // Another address is not affected.
        expect((await c.req('POST', '/api/login', { json: { password: PASSWORD }, headers: { 'x-test-ip': '10.0.0.2' } })).status).toBe(200);
      } finally {
        await other.cleanup();
      }
    });

    it('never logs passwords, tokens or cookies', async () => {
      const c = new TestClient(app);
      await c.signIn(PASSWORD);
      await c.signIn('a wrong password');
      const t = (await (await c.req('POST', '/api/tokens', { json: { name: 'log check' } })).json()) as { token: string };
      const b = new TestClient(app);
      b.bearer = t.token;
      await b.req('GET', '/api/people');
      expect(logText).toContain('failed sign-in');
      for (const secret of [PASSWORD, 'a wrong password', t.token, c.cookie!.split('=')[1], c.csrf!]) expect(logText).not.toContain(secret);
    });
  });

  describe('access control', () => {
    let admin: TestClient;
    beforeAll(async () => {
      admin = new TestClient(app);
      expect((await admin.signIn(PASSWORD)).status).toBe(200);
    });

    it('every documented /api route needs a session or token (401)', async () => {
      const anon = new TestClient(app);
      const open = new Set(['/api/login', '/api/setup', '/api/session-status']);
      const checked: string[] = [];
      for (const [method, p] of ROUTE_LIST) {
        if (open.has(p)) continue;
        const url = p.replace(/\{[a-z]+\}/gi, 'abc');
        const r = await anon.req(method, url, { json: method === 'GET' ? undefined : {} });
        expect(r.status, `${method} ${url}`).toBe(401);
        expect(await r.json()).toMatchObject({ error: 'unauthorized' });
        checked.push(url);
      }
      expect(checked.length).toBeGreaterThan(20);
      // A forged cookie is no session.
      anon.cookie = 'fg_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      expect((await anon.req('GET', '/api/people')).status).toBe(401);
    });

    it('every documented route exists (signed in, never "no such route")', async () => {
      for (const [method, p] of ROUTE_LIST) {
        if (p === '/api/logout' || p === '/api/setup' || p === '/api/sessions/end-all') continue;
        const r = await admin.req(method, p.replace(/\{[a-z]+\}/gi, 'abc'), { json: method === 'GET' ? undefined : {} });
        const body = r.headers.get('content-type')?.includes('json') ? await r.json() : {};
        expect((body as { error?: string }).error, `${method} ${p}`).not.toBe('no_route');
      }
    });

    it('cookie-authenticated changes need the CSRF header and a same-site Origin (403)', async () => {
      const noHeader = await admin.req('POST', '/api/people', { json: { name: 'Csrf One' }, csrf: false });
      expect(noHeader.status).toBe(403);
      expect(await noHeader.json()).toMatchObject({ error: 'csrf' });
      expect((await admin.req('POST', '/api/people', { json: { name: 'Csrf One' }, headers: { 'x-csrf-token': 'x'.repeat(43) } })).status).toBe(403);
      const evil = await admin.req('POST', '/api/people', { json: { name: 'Csrf One' }, headers: { origin: 'https://evil.example' } });
      expect(evil.status).toBe(403);
      expect(await evil.json()).toMatchObject({ error: 'bad_origin' });
      expect((await admin.req('DELETE', '/api/tokens/abc', { csrf: false })).status).toBe(403);
      const ok = await admin.req('POST', '/api/people', { json: { name: 'Csrf One' }, headers: { origin: 'http://facegate.local' } });
      expect(ok.status).toBe(201);
    });

    it('bearer tokens work without CSRF; the secret is shown once; revoked tokens fail', async () => {
      const created = await admin.req('POST', '/api/tokens', { json: { name: 'automation', scope: 'admin' } });
      expect(created.status).toBe(201);
      const t = (await created.json()) as { id: string; token: string };
      const list = await (await admin.req('GET', '/api/tokens')).text();
      expect(list).toContain('automation');
      expect(list).not.toContain(t.token);
      expect(list).not.toContain('hash');
      const bot = new TestClient(app);
      bot.bearer = t.token;
      const p = await bot.req('POST', '/api/people', { json: { name: 'Made By Bot' } });
      expect(p.status).toBe(201);
      const bad = new TestClient(app);
      bad.bearer = t.token.slice(0, -2) + 'xx';
      expect((await bad.req('GET', '/api/people')).status).toBe(401);
      expect((await admin.req('DELETE', `/api/tokens/${t.id}`)).status).toBe(200);
      expect((await bot.req('GET', '/api/people')).status).toBe(401);
    });

    it('sets security headers on pages and API answers', async () => {
      for (const r of [
        await app.request('/'),
        await app.request('/api/session-status'),
        await app.request('/nope'),
        await app.request('/api/people'),
        await app.request('/api/nope'),
      ]) {
        expect(r.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(r.headers.get('content-security-policy')).toContain("img-src 'self' blob: data:");
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
        expect(r.headers.get('referrer-policy')).toBe('no-referrer');
        expect(r.headers.get('x-frame-options')).toBe('DENY');
      }
      const page = await app.request('/');
      expect(page.status).toBe(200);
      expect(await page.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    });

    it('behaves the same when mounted inside another Hono app (as the appliance does)', async () => {
      const outer = new Hono();
      outer.get('/healthz', (c) => c.json({ status: 'ok' }));
      outer.route('/', createApp({ ...d, clientIp: testClientIp }));
      expect((await outer.request('/healthz')).status).toBe(200);
      const denied = await outer.request('/api/people');
      expect(denied.status).toBe(401);
      expect(await denied.json()).toMatchObject({ error: 'unauthorized' });
      expect(denied.headers.get('x-frame-options')).toBe('DENY');
      const c = new TestClient(outer);
      await c.signIn(PASSWORD);
      const missing = await c.req('POST', '/api/nope', { json: {} });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: 'no_route' });
      const page = await outer.request('/');
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    });

    it('path traversal never reads files: 400/404 only', async () => {
      const secretish = [/passwordHash/, /root:.*:0:0/, /"name":\s*"facegate"/, /sessions/];
      const urls = [
        '/api/snapshots/..%2F..%2Fauth.json',
        '/api/snapshots/..%2Fauth.jpg',
        '/api/snapshots/%2e%2e%2fauth.json.jpg',
        '/api/snapshots/%2Fetc%2Fpasswd.jpg',
        '/api/snapshots/..%5C..%5Cauth.jpg',
        '/api/samples/..%2F..%2Fauth/crop.jpg',
        '/api/samples/%2e%2e/crop.jpg',
        '/api/samples/%2Fetc%2Fpasswd/crop.jpg',
        '/api/samples/..%252f..%252fauth/crop.jpg',
        '/api/cameras/..%2F..%2F/frame.jpg',
        '/..%2f..%2fpackage.json',
        '/%2e%2e/%2e%2e/etc/passwd',
        '/%2e%2e%2fpackage.json',
        '/..%5cpackage.json',
        '/%2Fetc%2Fpasswd',
        '/package.json',
        '/app.js%2f..%2f..%2fpackage.json',
        '/web/../../package.json',
      ];
      for (const u of urls) {
        const r = await admin.req('GET', u);
        expect([400, 404], u).toContain(r.status);
        const text = await r.text();
        for (const re of secretish) expect(text, u).not.toMatch(re);
      }
    });
  });

  describe('people and photos', () => {
    let admin: TestClient;
    beforeAll(async () => {
      admin = new TestClient(app);
      await admin.signIn(PASSWORD);
    });
    const createPerson = async (name: string) => {
      const r = await admin.req('POST', '/api/people', { json: { name } });
      expect(r.status).toBe(201);
      return ((await r.json()) as { id: string }).id;
    };

    it('creates, lists, renames and deletes people; duplicate names are 409', async () => {
      const id = await createPerson('Amy Farrah');
      expect((await admin.req('POST', '/api/people', { json: { name: 'amy  farrah' } })).status).toBe(409);
      expect((await admin.req('POST', '/api/people', { json: { name: '' } })).status).toBe(400);
      expect((await admin.req('POST', '/api/people', { body: 'name=x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
      const renamed = await admin.req('PATCH', `/api/people/${id}`, { json: { name: 'Amy Fowler' } });
      expect(await renamed.json()).toMatchObject({ id, name: 'Amy Fowler' });
      const list = (await (await admin.req('GET', '/api/people')).json()) as { people: { id: string; name: string }[] };
      expect(list.people.find((p) => p.id === id)?.name).toBe('Amy Fowler');
      expect((await admin.req('GET', '/api/people/00000000-0000-0000-0000-000000000000')).status).toBe(404);
      expect((await admin.req('DELETE', `/api/people/${id}`)).status).toBe(200);
      expect((await admin.req('GET', `/api/people/${id}`)).status).toBe(404);
    });

    it('answers every uploaded file on its own, with the reason for each rejection', async () => {
      const id = await createPerson('Sheldon Cooper');
      const sheldon = await readFile(bbt('sheldon', 'sheldon1.png'));
      const tiny = await sharp(sheldon).resize(36, 36).png().toBuffer();
      // Blurred on a grey canvas so the aligned crop has no hard image border.
      const onGrey = await sharp({ create: { width: 350, height: 350, channels: 3, background: { r: 128, g: 128, b: 128 } } })
        .composite([{ input: sheldon, top: 100, left: 100 }])
        .png()
        .toBuffer();
      const blurred = await sharp(onGrey).blur(5).png().toBuffer();
      const blank = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 200, g: 200, b: 200 } } })
        .png()
        .toBuffer();
      const onePixel = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 0, g: 0, b: 0 } } })
        .png()
        .toBuffer();
      const noise = Buffer.alloc(400 * 400 * 3);
      for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
      const big = await sharp(noise, { raw: { width: 400, height: 400, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toBuffer();
      const manyPixels = await sharp({ create: { width: 1500, height: 1100, channels: 3, background: { r: 9, g: 9, b: 9 } } })
        .jpeg()
        .toBuffer();
      expect(big.length).toBeGreaterThan(300_000);
      const r = await admin.req('POST', `/api/people/${id}/photos`, {
        body: form([
          { name: 'sheldon1.png', data: sheldon },
          { name: 'notes.jpg', data: new TextEncoder().encode('this is a text file, not a photo\n'.repeat(5)) },
          { name: 'tiny.png', data: tiny },
          { name: 'blurred.png', data: blurred },
          { name: 'blank.png', data: blank },
          { name: 'pixel.png', data: onePixel },
          { name: 'group.jpg', data: await readFile(bbt('bbt1.jpg')) },
          { name: 'big.png', data: big },
          { name: 'huge.jpg', data: manyPixels },
          // A PNG named .txt is still a photo: the type comes from the content.
          { name: 'sheldon2.txt', data: await readFile(bbt('sheldon', 'sheldon2.png')) },
        ]),
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { accepted: number; results: Record<string, any>[] };
      const by = Object.fromEntries(body.results.map((x) => [x.file, x]));
      expect(by['sheldon1.png']).toMatchObject({ status: 'accepted' });
      expect(by['sheldon2.txt']).toMatchObject({ status: 'accepted' });
      expect(by['notes.jpg']).toMatchObject({ status: 'rejected', reason: 'not_image' });
      expect(by['tiny.png']).toMatchObject({ status: 'rejected', reason: 'too_small' });
      expect(by['blurred.png']).toMatchObject({ status: 'rejected', reason: 'too_blurry' });
      expect(by['blank.png']).toMatchObject({ status: 'rejected', reason: 'no_face' });
      expect(by['pixel.png']).toMatchObject({ status: 'rejected', reason: 'no_face' });
      expect(by['group.jpg']).toMatchObject({ status: 'rejected', reason: 'multiple_faces' });
      expect(by['big.png']).toMatchObject({ status: 'rejected', reason: 'too_large', bytes: big.length });
      expect(by['huge.jpg']).toMatchObject({ status: 'rejected', reason: 'too_many_pixels' });
      for (const x of body.results) if (x.status === 'rejected') expect(x.message.length).toBeGreaterThan(10);
      const faces = by['group.jpg'].faces as { index: number; box: number[]; thumbnail: string }[];
      expect(faces.length).toBeGreaterThanOrEqual(2);
      for (const f of faces) {
        expect(f.box).toHaveLength(4);
        expect(f.thumbnail).toMatch(/^data:image\/jpeg;base64,/);
      }
      expect(body.accepted).toBe(2);

      // The thumbnail of an accepted photo is the stored crop.
      const thumb = await admin.req('GET', by['sheldon1.png'].thumbnail);
      expect(thumb.headers.get('content-type')).toBe('image/jpeg');
      expect(isJpeg(new Uint8Array(await thumb.arrayBuffer()))).toBe(true);

      // Pick face 1 of the group photo.
      const pick = await admin.req('POST', `/api/people/${id}/photos?face=1`, { body: form([{ name: 'group.jpg', data: await readFile(bbt('bbt1.jpg')) }]) });
      const picked = (await pick.json()) as { results: Record<string, any>[] };
      expect(picked.results[0]).toMatchObject({ status: 'accepted' });
      const badPick = await admin.req('POST', `/api/people/${id}/photos?face=99`, {
        body: form([{ name: 'group.jpg', data: await readFile(bbt('bbt1.jpg')) }]),
      });
      expect(((await badPick.json()) as { results: Record<string, any>[] }).results[0]).toMatchObject({ reason: 'bad_face_index' });

      const samples = (await (await admin.req('GET', `/api/people/${id}/samples`)).json()) as {
        samples: { id: string; source: string; embedding?: unknown }[];
      };
      expect(samples.samples).toHaveLength(3);
      expect(samples.samples.every((s) => s.source === 'upload' && s.embedding === undefined)).toBe(true);
      const people = (await (await admin.req('GET', '/api/people')).json()) as { people: { id: string; avatar: string | null; samples: number }[] };
      const me = people.people.find((p) => p.id === id)!;
      expect(me.samples).toBe(3);
      expect(samples.samples.map((s) => s.id)).toContain(me.avatar);

      // Deleting a sample removes it and its picture.
      const gone = samples.samples[0]!.id;
      expect((await admin.req('DELETE', `/api/samples/${gone}`)).status).toBe(200);
      expect((await admin.req('GET', `/api/samples/${gone}/crop.jpg`)).status).toBe(404);
      expect((await admin.req('DELETE', `/api/samples/${gone}`)).status).toBe(404);
    }, 120_000);

    it('refuses oversize requests (413) and non-multipart uploads (415)', async () => {
      const id = await createPerson('Stuart Bloom');
      const r = await admin.req('POST', `/api/people/${id}/photos`, { body: form([{ name: 'x.jpg', data: new Uint8Array(3_200_000) }]) });
      expect(r.status).toBe(413);
      expect(await r.json()).toMatchObject({ error: 'too_large' });
      expect((await admin.req('POST', `/api/people/${id}/photos`, { json: { photo: 'x' } })).status).toBe(415);
    });

    it('loses nothing when uploads for one person run at the same time', async () => {
      const id = await createPerson('Penny');
      const files = await Promise.all([1, 2, 3, 4, 5].map((i) => file(bbt('penny', `penny${i}.png`))));
      const answers = await Promise.all(files.map((f) => admin.req('POST', `/api/people/${id}/photos`, { body: form([f]) }).then((r) => r.json())));
      const accepted = answers.flatMap((a: any) => a.results.filter((x: any) => x.status === 'accepted').map((x: any) => x.sampleId));
      expect(accepted.length).toBeGreaterThanOrEqual(4);
      const samples = (await (await admin.req('GET', `/api/people/${id}/samples`)).json()) as { samples: { id: string }[] };
      expect(samples.samples.map((s) => s.id).sort()).toEqual([...accepted].sort());
      const onDisk = await readdir(path.join(d.config.dataDir, 'samples'));
      for (const s of accepted) expect(onDisk).toContain(`${s}.jpg`);
    }, 120_000);
  });

  describe('cameras, events and unknowns', () => {
    let admin: TestClient;
    beforeAll(async () => {
      admin = new TestClient(app);
      await admin.signIn(PASSWORD);
    });

    it('keeps recognition events, serves their snapshots, and takes corrections', async () => {
      const leonard = (await (await admin.req('POST', '/api/people', { json: { name: 'Leonard' } })).json()) as { id: string };
      const raj = (await (await admin.req('POST', '/api/people', { json: { name: 'Raj' } })).json()) as { id: string };
      const snap = await d.snapshots.save(await readRgb(bbt('raj', 'raj1.png')));
      const emb = new Float32Array(64).fill(0.125);
      const e = event({ person: { id: leonard.id, name: 'Leonard' }, similarity: 0.61, snapshot: snap });
      d.bus.emit('recognition', e, { embedding: emb });
      d.bus.emit('recognition', event({ camera: 'yard', person: null }), { embedding: null });
      const all = (await (await admin.req('GET', '/api/events')).json()) as { events: Record<string, any>[] };
      const got = all.events.find((x) => x.id === e.id)!;
      expect(got).toMatchObject({ person: { id: leonard.id }, snapshotUrl: `/api/snapshots/${snap}.jpg` });
      expect(JSON.stringify(all)).not.toContain('embedding');
      const filtered = (await (await admin.req('GET', `/api/events?person=${leonard.id}&camera=door&limit=5`)).json()) as { events: { id: string }[] };
      expect(filtered.events.map((x) => x.id)).toEqual([e.id]);
      expect((await admin.req('GET', '/api/events?limit=0')).status).toBe(400);
      const img = await admin.req('GET', `/api/snapshots/${snap}.jpg`);
      expect(isJpeg(new Uint8Array(await img.arrayBuffer()))).toBe(true);
      expect((await admin.req('GET', '/api/snapshots/00000000-0000-0000-0000-000000000000.jpg')).status).toBe(404);

      const re = await admin.req('POST', `/api/events/${e.id}/reassign`, { json: { personId: raj.id } });
      expect(re.status).toBe(201);
      const rajSamples = (await (await admin.req('GET', `/api/people/${raj.id}/samples`)).json()) as { samples: Record<string, any>[] };
      expect(rajSamples.samples).toHaveLength(1);
      expect(rajSamples.samples[0]).toMatchObject({ source: 'event', negative: false });
      // Corrected once, the event stays corrected: another kind of correction is refused until the first is undone.
      const refused = await admin.req('POST', `/api/events/${e.id}/not-person`);
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({ error: 'conflict', message: expect.stringContaining('already given to Raj') });
      const { change } = (await re.json()) as { change: { id: string } };
      expect((await admin.req('POST', `/api/changes/${change.id}/undo`)).status).toBe(200);
      expect(await d.facebank.samples(raj.id)).toEqual([]);
      const not = await admin.req('POST', `/api/events/${e.id}/not-person`);
      expect(not.status).toBe(201);
      const leoSamples = (await d.facebank.samples(leonard.id))!;
      expect(leoSamples).toHaveLength(1);
      expect(leoSamples[0]!.negative).toBe(true);
      expect(leoSamples[0]!.embedding[0]).toBeCloseTo(0.125, 5);
      expect((await admin.req('POST', '/api/events/nope/reassign', { json: { personId: raj.id } })).status).toBe(404);

      await d.events.close();
      const saved = (await readFile(path.join(d.config.dataDir, 'events.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(saved.some((x: any) => x.e?.event.id === e.id)).toBe(true);
      expect(saved.some((x: any) => x.c?.id === e.id && x.c.correction?.kind === 'not-person')).toBe(true);
    });

    it('clusters unknown faces; naming a cluster enrols all its faces; dismissing forgets them', async () => {
      for (const f of d.unknowns.list()) d.unknowns.remove([f.id]);
      const base = (k: number) => {
        const v = new Float32Array(32);
        v[k] = 1;
        return v;
      };
      const near = (k: number, j: number) => {
        const v = base(k);
        v[j] = 0.2;
        return v;
      };
      const snap = await d.snapshots.save(await readRgb(bbt('howard', 'howard1.png')));
      const a1 = event({ snapshot: snap });
      d.bus.emit('recognition', a1, { embedding: base(0) });
      d.bus.emit('recognition', event({ snapshot: snap }), { embedding: near(0, 5) });
      d.bus.emit('recognition', event({ snapshot: snap }), { embedding: base(9) });
      const got = (await (await admin.req('GET', '/api/unknowns')).json()) as { clusters: { id: string; size: number; members: { snapshotUrl: string }[] }[] };
      expect(got.clusters.map((c) => c.size)).toEqual([2, 1]);
      expect(got.clusters[0]!.members[0]!.snapshotUrl).toBe(`/api/snapshots/${snap}.jpg`);
      const named = await admin.req('POST', `/api/unknowns/${got.clusters[0]!.id}/name`, { json: { name: 'Howard' } });
      expect(named.status).toBe(201);
      const { personId, created } = (await named.json()) as { personId: string; created: boolean };
      expect(created).toBe(true);
      expect((await d.facebank.samples(personId)).map((s) => s.source)).toEqual(['unknown', 'unknown']);
      expect((await admin.req('POST', `/api/unknowns/${got.clusters[1]!.id}/dismiss`)).status).toBe(200);
      const after = (await (await admin.req('GET', '/api/unknowns')).json()) as { clusters: unknown[] };
      expect(after.clusters).toEqual([]);
      expect((await admin.req('POST', `/api/unknowns/${a1.id}/dismiss`)).status).toBe(404);
    });

    it('serves the OpenAPI document', async () => {
      const doc = (await (await admin.req('GET', '/api/openapi.json')).json()) as { openapi: string; paths: Record<string, object> };
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toContain('/api/people/{id}/photos');
    });

    it('serves the page the error reasons from the one code table (/errors.js), and lists every code in OpenAPI', async () => {
      const r = await admin.req('GET', '/errors.js');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^text\/javascript/);
      const m = /^export const REASONS = (\{.*\});$/m.exec(await r.text());
      expect(m).not.toBeNull();
      const reasons = JSON.parse(m![1]!) as Record<string, string>;
      expect(reasons).toEqual(errorReasons());
      expect(reasons).toMatchObject({ not_image: 'Not a photo', duplicate: 'Already added', looks_like_other: 'Looks like someone else' });
      const doc = (await (await admin.req('GET', '/api/openapi.json')).json()) as {
        components: { schemas: { Error: { properties: { error: { enum: string[] } } } } };
      };
      expect(doc.components.schemas.Error.properties.error.enum).toEqual(expect.arrayContaining(['not_found', 'too_large', 'busy', 'facebank_read_only']));
    });
  });
  // The cameras page's API against a real camera: ffmpeg loops the Hamilton clip into the real pipeline loop.
  describe('a real ffmpeg camera', () => {
    let live: TestDeps<LiveCameras>;
    let admin: TestClient;
    beforeAll(async () => {
      live = await buildDeps({ cameras: new LiveCameras('door'), password: PASSWORD });
      const lin = await live.facebank.createPerson('Lin-Manuel Miranda');
      const [r] = await live.engine.analyze([await readRgb(dataPath('video', 'hamilton', 'lin-manuel-miranda.png'))]);
      const f = r!.faces[0]!;
      await live.facebank.addSample(lin.id, { embedding: f.embedding, modelId: live.engine.embedderId, quality: f.quality, source: 'cli', crop: f.aligned });
      live.cameras.start(live);
      admin = new TestClient(createApp({ ...live, clientIp: testClientIp }));
      await admin.signIn(PASSWORD);
    }, 60_000);
    afterAll(async () => {
      await live?.cameras.stop();
      await live?.cleanup();
    });

    it('lists the camera online and draws the named face into the latest frame', { timeout: 90_000 }, async () => {
      await live.cameras.waitFor((l) => l.boxes.some((b) => b.label === 'Lin-Manuel Miranda'), 60_000, 'Lin-Manuel Miranda named in a frame');
      const cams = (await (await admin.req('GET', '/api/cameras')).json()) as { cameras: { camera: string; state: string; fps: number }[] };
      expect(cams.cameras).toMatchObject([{ camera: 'door', state: 'online' }]);
      expect(cams.cameras[0]!.fps).toBeGreaterThan(1);
      // frame.jpg draws the boxes of the frame it serves: read it while the loop's newest frame stays the same one.
      for (let tries = 0; ; tries++) {
        const before = live.cameras.latest()!;
        const named = before.boxes.find((b) => b.label === 'Lin-Manuel Miranda');
        const res = await admin.req('GET', '/api/cameras/door/frame.jpg');
        expect(res.headers.get('content-type')).toBe('image/jpeg');
        const jpegBytes = Buffer.from(await res.arrayBuffer());
        if (live.cameras.latest() !== before || !named) {
          expect(tries).toBeLessThan(200);
          continue;
        }
        const { data, info } = await sharp(jpegBytes).raw().toBuffer({ resolveWithObject: true });
        expect([info.width, info.height]).toEqual([before.image.width, before.image.height]);
        // The named box's left edge (its middle half, averaged: JPEG smears a 2 px line) is the "named" green
        // (40, 200, 90), not the unknown amber (240, 170, 30).
        const x1 = Math.round(named.box[0]);
        const [top, bottom] = [named.box[1], named.box[3]].map(Math.round) as [number, number];
        let r = 0;
        let g = 0;
        let n = 0;
        for (let y = Math.round(top + (bottom - top) / 4); y <= Math.round(bottom - (bottom - top) / 4); y++) {
          for (const x of [x1, x1 + 1]) {
            const o = (y * info.width + x) * 3;
            r += data[o]!;
            g += data[o + 1]!;
            n++;
          }
        }
        expect(g / n).toBeGreaterThan(150);
        expect(r / n).toBeLessThan(140);
        break;
      }
      expect((await admin.req('GET', '/api/cameras/nope/frame.jpg')).status).toBe(404);
      expect((await admin.req('GET', '/api/cameras/BAD!/frame.jpg')).status).toBe(400);
    });

    it('captures the faces of the live frame: a usable one is enrolled, an unusable one is refused', { timeout: 120_000 }, async () => {
      const person = (await (await admin.req('POST', '/api/people', { json: { name: 'Captured' } })).json()) as { id: string };
      // Frames differ: capture until one holds both a usable face that resembles the enrolled Lin-Manuel Miranda at the
      // threshold in use (his close shot) and one the quality gate refuses (the far pianist).
      type Capture = { captureId: string; faces: { index: number; ok: boolean; thumbnail: string; match: { name: string } | null }[] };
      let body: Capture | null = null;
      const end = Date.now() + 90_000;
      while (Date.now() < end) {
        const cap = await admin.req('POST', '/api/cameras/door/capture');
        expect(cap.status).toBe(200);
        const b = (await cap.json()) as Capture;
        if (b.faces.some((f) => f.ok && f.match?.name === 'Lin-Manuel Miranda') && b.faces.some((f) => !f.ok)) {
          body = b;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).not.toBeNull();
      const good = body!.faces.find((f) => f.ok && f.match?.name === 'Lin-Manuel Miranda')!;
      const bad = body!.faces.find((f) => !f.ok)!;
      expect(
        (await admin.req('POST', `/api/people/${person.id}/capture`, { json: { camera: 'door', captureId: body!.captureId, face: bad.index } })).status,
      ).toBe(422);
      // The usable face is Lin-Manuel Miranda's, who is enrolled: adding it to someone else needs a confirmation.
      const warned = await admin.req('POST', `/api/people/${person.id}/capture`, { json: { camera: 'door', captureId: body!.captureId, face: good.index } });
      expect(warned.status).toBe(422);
      expect(await warned.json()).toMatchObject({ error: 'looks_like_other', match: { name: 'Lin-Manuel Miranda' } });
      const r = await admin.req('POST', `/api/people/${person.id}/capture`, {
        json: { camera: 'door', captureId: body!.captureId, face: good.index, force: true },
      });
      expect(r.status).toBe(201);
      const samples = (await (await admin.req('GET', `/api/people/${person.id}/samples`)).json()) as { samples: { source: string }[] };
      expect(samples.samples.map((s) => s.source)).toEqual(['camera']);
      expect((await admin.req('POST', `/api/people/${person.id}/capture`, { json: { camera: 'door', captureId: 'gone', face: 0 } })).status).toBe(404);
    });
  });
});
