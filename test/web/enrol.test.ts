/**
 * The facebank's one owner (src/enrol) through every path of the API, with the real engine on real faces: the
 * look-alike check at the live operating point, idempotent corrections, no placeholder crops, no person left behind
 * by a failed action, the one name rule, Undo of each kind, and the threshold shown = the threshold used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createApp } from '../../src/web/app.js';
import { Enrolment } from '../../src/enrol/service.js';
import { LiveMatcher } from '../../src/match/live.js';
import { nameClashes } from '../../src/sync/names.js';
import type { Face } from '../../src/vision/types.js';
import { flipHorizontal } from '../../src/vision/image.js';
import { cosine } from '../../src/match/cosine.js';
import { recognitionEvent } from './events.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { buildDeps, readRgb, type TestDeps } from './deps.js';
import { TestClient, testClientIp } from './client.js';

const PASSWORD = 'correct horse battery';
const bbt = (...p: string[]) => dataPath('identity', 'bbt', ...p);

describe.skipIf(!hasTestData)('one owner of the facebank', () => {
  let d: TestDeps;
  let admin: TestClient;
  const faces = new Map<string, Face>();

  /** The one face of a bbt photo (real engine). */
  const face = async (who: string, n: number): Promise<Face> => {
    const key = `${who}${n}`;
    if (!faces.has(key)) {
      const [r] = await d.engine.analyze([await readRgb(bbt(who, `${who}${n}.png`))]);
      const best = r!.faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0]!;
      faces.set(key, best);
    }
    return faces.get(key)!;
  };
  const enrolled = async (name: string, who: string, ns: number[]) => {
    const out = await d.enrol.addFaces({ name }, await Promise.all(ns.map(async (n) => ({ ...(await face(who, n)), crop: (await face(who, n)).aligned }))), {
      source: 'cli',
    });
    return out.person!;
  };
  /** The snapshot the live pipeline keeps of a face: its aligned crop. */
  const snapshotOf = async (who: string, n: number) => d.snapshots.save((await face(who, n)).aligned);
  /** An event the matcher decided (person or unknown), with the real face's embedding and a real snapshot. */
  const seen = async (who: string, n: number, person: { id: string; name: string } | null = null, snapshot?: string | null) => {
    const e = recognitionEvent({ person, similarity: 0.4, snapshot: snapshot === undefined ? await snapshotOf(who, n) : snapshot });
    d.bus.emit('recognition', e, { embedding: (await face(who, n)).embedding });
    return e;
  };
  const json = async (r: Response) => (await r.json()) as Record<string, any>;

  beforeAll(async () => {
    d = await buildDeps({ password: PASSWORD });
    admin = new TestClient(createApp({ ...d, clientIp: testClientIp }));
    await admin.signIn(PASSWORD);
  }, 120_000);
  afterAll(() => d?.cleanup());

  it('naming an unknown group that is really an enrolled person warns, names who and how alike, and creates nobody', async () => {
    const sheldon = await enrolled('Sheldon', 'sheldon', [1]);
    const a = await seen('sheldon', 2);
    await seen('sheldon', 3);
    const groups = (await json(await admin.req('GET', '/api/unknowns'))).clusters as { id: string; members: { id: string }[] }[];
    const group = groups.find((g) => g.members.some((m) => m.id === a.id))!;
    expect(group.members).toHaveLength(2);
    const r = await admin.req('POST', `/api/unknowns/${group.id}/name`, { json: { name: 'Audience Member' } });
    expect(r.status).toBe(422);
    const body = await json(r);
    expect(body).toMatchObject({ error: 'looks_like_other', message: expect.stringContaining('Sheldon') });
    expect(body.leftOut).toHaveLength(2);
    expect(body.leftOut[0].match).toMatchObject({ personId: sheldon.id, name: 'Sheldon', similarity: expect.any(Number) });
    expect(body.leftOut[0].message).toMatch(/\d+ % alike/);
    expect(await d.facebank.findByName('Audience Member')).toBeNull();
    expect(d.unknowns.list().filter((u) => group.members.some((m) => m.id === u.id))).toHaveLength(2);
    // Named as the person they are, both faces go in (the one that duplicates nothing).
    const ok = await admin.req('POST', `/api/unknowns/${group.id}/name`, { json: { personId: sheldon.id } });
    expect(ok.status).toBe(201);
    expect((await json(ok)).sampleIds).toHaveLength(2);
    // A repeat answers what was done and adds nothing.
    const again = await admin.req('POST', `/api/unknowns/${group.id}/name`, { json: { personId: sheldon.id } });
    expect(again.status).toBe(200);
    expect(await json(again)).toMatchObject({ already: true, personId: sheldon.id });
    expect((await d.facebank.samples(sheldon.id)).length).toBe(3);
  }, 60_000);

  it('a group is checked face by face: the faces like someone else are left out and listed, the rest are named', async () => {
    await enrolled('Raj', 'raj', [1]);
    const p = await seen('penny', 1);
    const r2 = await seen('raj', 2);
    // The two faces are in different groups on the page, so the owner is asked directly with both.
    const out = await d.enrol.nameGroup([p.id, r2.id], { name: 'Penny' });
    expect(out.results.filter((x) => x.status === 'added')).toHaveLength(1);
    expect(out.leftOut).toEqual([expect.objectContaining({ index: 1, status: 'looks_like_other', match: expect.objectContaining({ name: 'Raj' }) })]);
    expect(d.unknowns.list().some((u) => u.id === r2.id)).toBe(true);
    expect(d.unknowns.list().some((u) => u.id === p.id)).toBe(false);
  }, 60_000);

  it('three reassigns of one event give one sample; a repeat answers what was done', async () => {
    const howard = await enrolled('Howard', 'howard', [1]);
    const leonard = await enrolled('Leonard', 'leonard', [1]);
    const e = await seen('howard', 2, { id: leonard.id, name: 'Leonard' });
    const before = (await d.facebank.samples(howard.id)).length;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await admin.req('POST', `/api/events/${e.id}/reassign`, { json: { personId: howard.id } }));
    expect(answers.map((a) => a.status)).toEqual([201, 200, 200]);
    expect(await json(answers[2]!)).toMatchObject({ already: true, correction: { kind: 'reassigned', personId: howard.id }, sampleId: null });
    expect((await d.facebank.samples(howard.id)).length).toBe(before + 1);
    expect(d.events.get(e.id)!.event.correction).toMatchObject({ kind: 'reassigned', personId: howard.id });
  }, 60_000);

  it('two concurrent corrections of one event give one sample; "not this person" twice gives one negative', async () => {
    const amy = await enrolled('Amy', 'amy', [1]);
    const bern = await enrolled('Bernadette', 'bernadette', [1]);
    const e = await seen('amy', 2, { id: bern.id, name: 'Bernadette' });
    const both = await Promise.all([1, 2].map(() => admin.req('POST', `/api/events/${e.id}/reassign`, { json: { personId: amy.id } })));
    expect(both.map((r) => r.status).sort()).toEqual([200, 201]);
    expect((await d.facebank.samples(amy.id)).length).toBe(2);
    const n = await seen('amy', 3, { id: bern.id, name: 'Bernadette' });
    const nots = await Promise.all([1, 2].map(() => admin.req('POST', `/api/events/${n.id}/not-person`)));
    expect(nots.map((r) => r.status).sort()).toEqual([200, 201]);
    expect((await d.facebank.samples(bern.id)).filter((s) => s.negative)).toHaveLength(1);
  }, 60_000);

  it('a missing snapshot refuses the correction with a sentence, and stores no placeholder', async () => {
    const stuart = await enrolled('Stuart', 'stuart', [1]);
    const count = (await d.facebank.samples()).length;
    const gone = await seen('stuart', 2, null, '00000000-0000-0000-0000-000000000000');
    const none = await seen('stuart', 2, null, null);
    for (const e of [gone, none]) {
      const r = await admin.req('POST', `/api/events/${e.id}/reassign`, { json: { personId: stuart.id } });
      expect(r.status).toBe(422);
      expect(await json(r)).toMatchObject({ error: 'snapshot_gone', message: expect.stringContaining('picture of this face is gone') });
      expect(d.events.get(e.id)!.event.correction).toBeUndefined();
    }
    expect((await d.facebank.samples()).length).toBe(count);
    // Naming an unknown face whose snapshot is gone is refused as well.
    const r = await admin.req('POST', `/api/unknowns/${gone.id}/name`, { json: { name: 'Nobody Here' } });
    expect(r.status).toBe(422);
    expect(await d.facebank.findByName('Nobody Here')).toBeNull();
  }, 60_000);

  it('a failed action leaves no person behind', async () => {
    const good = await seen('leonard', 2);
    const broken = recognitionEvent({ snapshot: await snapshotOf('leonard', 3) });
    // A face whose embedding cannot be stored (all zero): the facebank refuses it after the first face went in.
    d.bus.emit('recognition', broken, { embedding: new Float32Array((await face('leonard', 3)).embedding.length) });
    await expect(d.enrol.nameGroup([good.id, broken.id], { name: 'Half Done' }, true)).rejects.toMatchObject({ code: 'invalid' });
    expect(await d.facebank.findByName('Half Done')).toBeNull();
    expect(d.unknowns.list().some((u) => u.id === good.id)).toBe(true);
  }, 60_000);

  it('a name that exists is one rule everywhere: refused with the sentence naming the person', async () => {
    const photo = await seen('penny', 2);
    for (const [path, body] of [
      ['/api/people', { name: 'sheldon' }],
      ['/api/people', { name: 'Shеldon' }], // Cyrillic е
      [`/api/unknowns/${photo.id}/name`, { name: 'SHELDON' }],
    ] as const) {
      const r = await admin.req('POST', path, { json: body });
      expect(r.status).toBe(409);
      expect(await json(r)).toMatchObject({ error: 'duplicate_name', name: 'Sheldon', message: expect.stringContaining('"Sheldon"') });
    }
    const raj = (await d.facebank.findByName('Raj'))!;
    const rename = await admin.req('PATCH', `/api/people/${raj.id}`, { json: { name: 'Ѕheldon' } }); // Cyrillic Ѕ
    expect(rename.status).toBe(409);
    expect((await json(rename)).message).toMatch(/looks the same as "Sheldon"/);
  });

  it('refuses fillers, blank braille, lone variation selectors and combining-only names on the API', async () => {
    for (const name of ['\u3164', 'Ann\u3164', '\u2800', '\u115F\u1160', '\uFE0F', '\u0301\u0302']) {
      const r = await admin.req('POST', '/api/people', { json: { name } });
      expect(r.status).toBe(400);
      expect(await json(r)).toMatchObject({ error: 'bad_name', message: expect.stringMatching(/invisible|letter or digit/) });
    }
  });

  it('records from another appliance follow the name rule and still converge on a clash', async () => {
    const sheldon = (await d.facebank.findByName('Sheldon'))!;
    const created = new Date().toISOString();
    await d.enrol.applyRemote([
      { op: 'person', person: { id: 'remote-filler', name: '\u3164', created, notes: '' } },
      { op: 'person', person: { id: 'remote-cyrillic', name: 'Shеldon', created, notes: '' } },
    ]);
    expect((await d.facebank.person('remote-filler'))!.name).toMatch(/^Person remote-f/);
    // Both kept; the sync's clash rule groups them by the same key, so the later one is renamed "<name> (<box>)".
    const clash = nameClashes([
      { id: sheldon.id, name: sheldon.name, version: undefined },
      { id: 'remote-cyrillic', name: 'Shеldon', version: '0000000000001-0000-box2' },
    ]);
    expect(clash.map((p) => p.id)).toHaveLength(1);
    await d.enrol.applyRemote([
      { op: 'person.delete', id: 'remote-filler' },
      { op: 'person.delete', id: 'remote-cyrillic' },
    ]);
  });

  it('undoes each kind of change from the change log, which survives a restart', async () => {
    const changes = async () =>
      (await json(await admin.req('GET', '/api/changes'))).changes as { id: string; kind: string; undoable: boolean; summary: string }[];
    const undo = async (id: string) => admin.req('POST', `/api/changes/${id}/undo`);
    const penny = (await d.facebank.findByName('Penny'))!;
    const leonard = (await d.facebank.findByName('Leonard'))!;

    // A reassign: the sample goes, the event is as the matcher decided it again.
    const e = await seen('penny', 3, { id: leonard.id, name: 'Leonard' });
    const re = await json(await admin.req('POST', `/api/events/${e.id}/reassign`, { json: { personId: penny.id } }));
    expect((await undo(re.change.id)).status).toBe(200);
    expect((await d.facebank.samples()).some((s) => s.id === re.sampleId)).toBe(false);
    expect(d.events.get(e.id)!.event.correction).toBeUndefined();
    expect((await undo(re.change.id)).status).toBe(409);

    // Not this person: the negative goes.
    const n = await json(await admin.req('POST', `/api/events/${e.id}/not-person`));
    expect((await d.facebank.samples(leonard.id)).some((s) => s.id === n.sampleId && s.negative)).toBe(true);
    expect((await undo(n.change.id)).status).toBe(200);
    expect((await d.facebank.samples(leonard.id)).some((s) => s.negative)).toBe(false);

    // Naming a group as a new person: the person and samples go, the faces are unknown again.
    const u = await seen('penny', 4);
    const named = await json(await admin.req('POST', `/api/unknowns/${u.id}/name`, { json: { name: 'New Neighbour', force: true } }));
    expect(named.created).toBe(true);
    expect((await undo(named.change.id)).status).toBe(200);
    expect(await d.facebank.findByName('New Neighbour')).toBeNull();
    expect(d.unknowns.list().some((x) => x.id === u.id)).toBe(true);

    // Dismissing a group: the faces come back.
    const dis = await json(await admin.req('POST', `/api/unknowns/${u.id}/dismiss`));
    expect(d.unknowns.list().some((x) => x.id === u.id)).toBe(false);
    expect((await undo(dis.change.id)).status).toBe(200);
    expect(d.unknowns.list().some((x) => x.id === u.id)).toBe(true);

    // Removing a photo: it comes back (same face, new id).
    const [first] = await d.facebank.samples(penny.id);
    const rm = await json(await admin.req('DELETE', `/api/samples/${first!.id}`));
    expect((await d.facebank.samples(penny.id)).some((s) => s.id === first!.id)).toBe(false);
    expect((await undo(rm.change.id)).status).toBe(200);
    const back = await d.facebank.samples(penny.id);
    expect(back.some((s) => Math.abs(s.embedding[0]! - first!.embedding[0]!) < 1e-6)).toBe(true);

    // A rename.
    await admin.req('PATCH', `/api/people/${penny.id}`, { json: { name: 'Penny Hofstadter' } });
    const rename = (await changes()).find((c) => c.kind === 'rename')!;
    expect((await undo(rename.id)).status).toBe(200);
    expect((await d.facebank.person(penny.id))!.name).toBe('Penny');

    // The log lists them newest first, undone ones no longer undoable; a new owner on the same data dir reads it back.
    const listed = await changes();
    expect(listed[0]!.kind).toBe('rename');
    expect(listed.filter((c) => !c.undoable).length).toBeGreaterThanOrEqual(6);
    await d.enrol.close();
    const again = new Enrolment({ dataDir: d.config.dataDir, facebank: d.facebank, match: d.config.match, embedder: () => d.engine });
    await again.open();
    expect(again.changes().map((c) => c.id)).toEqual(listed.map((c) => c.id));
    await d.enrol.open();
  }, 120_000);

  it('the threshold shown on the page, the API, clustering and look-alike checks is the one the live matcher uses', async () => {
    const live = new LiveMatcher(d.facebank, d.bus, d.engine.embedderId, d.config.match, d.engine.defaultThreshold, d.engine.detectorId);
    await live.current();
    const used = live.operatingPoint!;
    live.close();
    const people = await json(await admin.req('GET', '/api/people'));
    const point = await json(await admin.req('GET', '/api/operating-point'));
    const unknowns = await json(await admin.req('GET', '/api/unknowns'));
    const status = await json(await admin.req('GET', '/api/session-status'));
    const events = await json(await admin.req('GET', '/api/events'));
    expect(used.people).toBeGreaterThan(5);
    for (const t of [people.operatingPoint.threshold, point.threshold, unknowns.threshold, status.threshold, events.operatingPoint.threshold])
      expect(t).toBe(used.threshold);
    expect(point).toMatchObject({ people: used.people, targetFpir: used.targetFpir, source: used.source });
    expect(
      point.sentence.startsWith(
        `A face gets a name when it is at least ${Math.round(used.threshold * 100)} % alike one person's photos ` +
          (used.source === 'facebank-size'
            ? `(set for ${used.people} people enrolled, so about 1 stranger in ${(1 / used.targetFpir!).toLocaleString('en-US')} is misnamed).`
            : `(the face model's own threshold, where about 1 comparison of two strangers in 1,000 looks alike; ${used.people} people enrolled).`),
      ),
    ).toBe(true);
    // Tracks are named from their views together, at the per-track threshold the live matcher uses.
    if (used.trackThresholds?.length) expect(point.sentence).toContain(`at ${Math.round(used.trackThresholds.at(-1)! * 100)} % or more`);
  });

  it('photo uploads go through the same checks: a photo of another enrolled person is refused unless confirmed', async () => {
    const penny = (await d.facebank.findByName('Penny'))!;
    const photo = new Blob([new Uint8Array(await readFile(bbt('raj', 'raj3.png')))]);
    const send = (force: boolean) => {
      const f = new FormData();
      f.append('photos', photo, path.basename('raj3.png'));
      return admin.req('POST', `/api/people/${penny.id}/photos${force ? '?force=1' : ''}`, { body: f });
    };
    const refused = await json(await send(false));
    expect(refused.results[0]).toMatchObject({ status: 'rejected', reason: 'looks_like_other', match: { name: 'Raj' } });
    const forced = await json(await send(true));
    expect(forced.results[0]).toMatchObject({ status: 'accepted' });
    const dup = await json(await send(true));
    expect(dup.results[0]).toMatchObject({ status: 'rejected', reason: 'duplicate' });
  }, 60_000);
  it('a photo is enrolled as the mean of the face and its mirror image, so both looks are as alike the sample', async () => {
    const f = await face('stuart', 1);
    const [mirror] = await d.engine.embedAligned([flipHorizontal(f.aligned)]);
    // Stuart was enrolled from this photo alone above (his corrections were refused); alone, this test enrols him.
    const stuart = (await d.facebank.findByName('Stuart')) ?? (await enrolled('Stuart', 'stuart', [1]));
    const [stored, ...more] = await d.facebank.samples(stuart.id);
    expect(more).toHaveLength(0);
    const plainSim = cosine(stored!.embedding, f.embedding);
    const mirrorSim = cosine(stored!.embedding, mirror!);
    const c = cosine(f.embedding, mirror!);
    expect(c).toBeLessThan(0.995); // a face and its mirror image are two looks
    // Stored as given, the face would be 1.0 alike and its mirror c: the mean is as alike both, √((1 + c) / 2).
    expect(Math.abs(plainSim - mirrorSim)).toBeLessThan((1 - c) / 3);
    expect(plainSim).toBeCloseTo(Math.sqrt((1 + c) / 2), 2);
  }, 60_000);
  it('the people list says how strong each enrolment is and asks for the photo that would help most', async () => {
    const upload = async (personId: string, who: string, file: string) => {
      const f = new FormData();
      f.append('photos', new Blob([new Uint8Array(await readFile(bbt(who, file)))]), file);
      // force: these faces may resemble people the other tests enrolled; this test is about the strength shown.
      return json(await admin.req('POST', `/api/people/${personId}/photos?force=1`, { body: f }));
    };
    const strength = async (id: string) => ((await json(await admin.req('GET', '/api/people'))).people as any[]).find((p) => p.id === id).strength;
    const amy = await json(await admin.req('POST', '/api/people', { json: { name: 'Amy Farrah Fowler' } }));
    expect(await strength(amy.id)).toEqual({ level: 'none', hint: expect.stringMatching(/photo/) });
    expect((await upload(amy.id, 'amy', 'amy1.png')).accepted).toBe(1);
    const one = await strength(amy.id);
    expect(one.level).not.toBe('none');
    expect(one.hint).toEqual(expect.any(String));
    for (const file of ['amy2.png', 'amy3.png', 'amy4.png']) await upload(amy.id, 'amy', file);
    const levels = ['none', 'weak', 'fair', 'strong'];
    expect(levels.indexOf((await strength(amy.id)).level)).toBeGreaterThanOrEqual(levels.indexOf(one.level));
  }, 60_000);
});
