/** The training flow through the API: capture enrolment as one transaction, no double adds, look-alike warnings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { createApp } from '../../src/web/app.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { buildDeps, type TestDeps } from './deps.js';
import { TestClient, testClientIp } from './client.js';

const PASSWORD = 'a long admin password';
const bbt = (...p: string[]) => dataPath('identity', 'bbt', ...p);
const photo = async (p: string) => {
  const f = new FormData();
  f.append('photos', new Blob([new Uint8Array(await readFile(p))]), p.split('/').at(-1));
  return f;
};

describe.skipIf(!hasTestData)('training flow API', () => {
  let d: TestDeps;
  let admin: TestClient;
  beforeAll(async () => {
    d = await buildDeps({ password: PASSWORD });
    admin = new TestClient(createApp({ ...d, clientIp: testClientIp }));
    await admin.signIn(PASSWORD);
  }, 60_000);
  afterAll(() => d?.cleanup());

  type Cap = { captureId: string; image: string; faces: { index: number; ok: boolean; match: { name: string } | null }[] };
  const capture = async () => (await (await admin.req('POST', '/api/cameras/door/capture')).json()) as Cap;

  it('a capture into a new person is checked first: bad name, wrong face or unknown capture create nobody', async () => {
    const cap = await capture();
    expect(cap.image).toMatch(/^data:image\/jpeg;base64,/);
    const ok = cap.faces.find((f) => f.ok)!;
    const bad = cap.faces.find((f) => !f.ok);
    const tries = [
      { captureId: 'no-such-capture', face: ok.index, name: 'Ghost' },
      { captureId: cap.captureId, face: ok.index, name: 'Gho\u202Est' },
      { captureId: cap.captureId, face: 99, name: 'Ghost' },
      ...(bad ? [{ captureId: cap.captureId, face: bad.index, name: 'Ghost' }] : []),
    ];
    for (const body of tries)
      expect((await admin.req('POST', '/api/captures/enrol', { json: { camera: 'door', ...body } })).status).toBeGreaterThanOrEqual(400);
    expect(await d.facebank.people()).toEqual([]);
  });

  it('the same captured face added twice (a double click) gives one sample', async () => {
    const cap = await capture();
    const face = cap.faces.find((f) => f.ok)!.index;
    const body = { camera: 'door', captureId: cap.captureId, face, name: 'Kripke' };
    const [a, b] = await Promise.all([admin.req('POST', '/api/captures/enrol', { json: body }), admin.req('POST', '/api/captures/enrol', { json: body })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const kripke = (await d.facebank.findByName('Kripke'))!;
    expect(await d.facebank.samples(kripke.id)).toHaveLength(1);
    // A new capture of the same frame: the face is already Kripke's, refused as a duplicate.
    const again = await capture();
    const r = await admin.req('POST', '/api/captures/enrol', { json: { camera: 'door', captureId: again.captureId, face, personId: kripke.id } });
    expect(r.status).toBe(409);
    expect(await r.json()).toMatchObject({ error: 'duplicate' });
    // And the capture now says whom that face resembles.
    expect(again.faces[face]!.match).toMatchObject({ name: 'Kripke' });
  });

  it('an upload that looks like someone else is held back with the match; force=1 adds it', async () => {
    const raj = (await (await admin.req('POST', '/api/people', { json: { name: 'Howard' } })).json()) as { id: string };
    const first = (await (await admin.req('POST', `/api/people/${raj.id}/photos`, { body: await photo(bbt('howard', 'howard1.png')) })).json()) as {
      accepted: number;
    };
    expect(first.accepted).toBe(1);
    const twice = (await (await admin.req('POST', `/api/people/${raj.id}/photos`, { body: await photo(bbt('howard', 'howard1.png')) })).json()) as {
      results: { reason: string }[];
    };
    expect(twice.results[0]!.reason).toBe('duplicate');
    const other = (await (await admin.req('POST', '/api/people', { json: { name: 'Stuart' } })).json()) as { id: string };
    const held = (await (await admin.req('POST', `/api/people/${other.id}/photos`, { body: await photo(bbt('howard', 'howard2.png')) })).json()) as {
      accepted: number;
      results: { reason: string; message: string; match: { personId: string; name: string; similarity: number } }[];
    };
    expect(held.accepted).toBe(0);
    expect(held.results[0]).toMatchObject({ reason: 'looks_like_other', match: { personId: raj.id, name: 'Howard' } });
    expect(held.results[0]!.message).toMatch(/looks more like Howard/);
    const forced = (await (await admin.req('POST', `/api/people/${other.id}/photos?force=1`, { body: await photo(bbt('howard', 'howard2.png')) })).json()) as {
      accepted: number;
    };
    expect(forced.accepted).toBe(1);
    // A photo of the person themself passes without a warning.
    const stuart = (await (await admin.req('POST', '/api/people', { json: { name: 'Stuart Bloom' } })).json()) as { id: string };
    const own = (await (await admin.req('POST', `/api/people/${stuart.id}/photos`, { body: await photo(bbt('stuart', 'stuart1.png')) })).json()) as {
      accepted: number;
    };
    expect(own.accepted).toBe(1);
  });

  it('the live endpoint gives the plain frame and each face as known, unknown or gated', async () => {
    d.cameras.faces = [
      { box: [10, 10, 60, 60], label: 'Leonard', similarity: 0.7 },
      { box: [100, 10, 150, 60], label: null, similarity: 0.1 },
      { box: [200, 10, 210, 20], label: null, similarity: null },
    ];
    const live = (await (await admin.req('GET', '/api/cameras/door/live')).json()) as {
      width: number;
      image: string;
      faces: { kind: string; label: string | null }[];
    };
    expect(live.width).toBe(d.cameras.frame.width);
    expect(live.image).toMatch(/^data:image\/jpeg;base64,/);
    expect(live.faces.map((f) => f.kind)).toEqual(['known', 'unknown', 'gated']);
  });
});
