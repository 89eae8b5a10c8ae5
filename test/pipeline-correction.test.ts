/**
 * "Wrong person" on an update of a live track, through the real web API, engine, facebank, event store and loop:
 * the track is corrected at once, and after a reload the correction is listed and the matcher uses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseFace } from '../src/engine/choose-face.js';
import { decodeImage } from '../src/ingest/still.js';
import { readFrames } from '../src/ingest/reader.js';
import { Matcher, matcherOptions } from '../src/match/matcher.js';
import { PipelineLoop, type LoopFrame } from '../src/pipeline/loop.js';
import type { RecognitionEvent } from '../src/events/types.js';
import { EventStore, type StoredEvent } from '../src/store/events.js';
import { Facebank } from '../src/store/facebank.js';
import { createApp } from '../src/web/app.js';
import { dataPath, hasTestData } from './helpers/data.js';
import { buildDeps, type TestDeps } from './web/deps.js';
import { TestClient, testClientIp } from './web/client.js';

const PASSWORD = 'correct horse battery';
const said = (evs: RecognitionEvent[]) => evs.map((e) => `${e.type}:${e.person?.name ?? 'unknown'}`);

describe.skipIf(!hasTestData)('"wrong person" on a live track', () => {
  let d: TestDeps;
  let frames: LoopFrame[];
  beforeAll(async () => {
    d = await buildDeps({ password: PASSWORD });
    frames = [];
    // Lin-Manuel Miranda's longest shot of the Hamilton clip, 3.6 to 7.6 s, at 5 frames/s.
    for await (const f of readFrames(dataPath('video', 'hamilton', 'short_hamilton_clip.mp4'), { fps: 5, width: 640 })) {
      if (f.offsetMs >= 3600 && f.offsetMs < 7700) frames.push({ camera: 'door', image: f.image, time: 1_000_000 + f.offsetMs });
    }
  }, 60_000);
  afterAll(() => d?.cleanup());

  it('corrects the track at once, and after a reload the correction is listed and used by the matcher', async () => {
    // Someone enrolled his photo under the wrong name.
    const [r] = await d.engine.analyze([await decodeImage(dataPath('video', 'hamilton', 'lin-manuel-miranda.png'))], d.config.pipeline.quality);
    const c = chooseFace(r!);
    if (c.kind !== 'face') throw new Error('no face in the enrolment photo');
    const wrong = await d.facebank.createPerson('Wrong Name');
    await d.facebank.addSample(wrong.id, {
      embedding: c.face.embedding,
      modelId: d.engine.embedderId,
      quality: c.face.quality,
      source: 'cli',
      crop: c.face.aligned,
    });

    const app = createApp({ ...d, clientIp: testClientIp });
    const client = new TestClient(app);
    expect((await client.signIn(PASSWORD)).status).toBe(200);
    // The people page's figures: the threshold names are given at, for the one person enrolled.
    const list = (await (await client.req('GET', '/api/people')).json()) as { operatingPoint: { people: number; threshold: number; source: string } };
    expect(list.operatingPoint).toMatchObject({ people: 1, source: 'facebank-size', targetFpir: 0.001 });
    expect(list.operatingPoint.threshold).toBeGreaterThanOrEqual(d.engine.defaultThreshold);
    const loop = new PipelineLoop({
      sources: [],
      engine: d.engine,
      facebank: d.facebank,
      bus: d.bus,
      config: d.config,
      log: d.log,
      snapshots: d.snapshots,
      batchFrames: 2,
    });

    // Run until the track has an update (its similarity rose), then say "wrong person" on that update.
    const seen: RecognitionEvent[] = [];
    let i = 0;
    while (i < frames.length && !seen.some((e) => e.type === 'update')) seen.push(...(await loop.processFrames(frames.slice(i, (i += 2)))));
    expect(said(seen)).toEqual(['new:Wrong Name', 'update:Wrong Name']);
    const update = seen[1]!;
    const res = await client.req('POST', `/api/events/${update.id}/not-person`, { json: {} });
    expect(res.status).toBe(201);

    // The live track drops the name at the next frames, and keeps it off.
    const after = await loop.processFrames(frames.slice(i));
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]).toMatchObject({ type: 'update', person: null, track: update.track });
    expect(after.filter((e) => e.person)).toEqual([]);
    expect(loop.latestFaces('door')!.boxes.filter((b) => b.name)).toEqual([]);
    const listed = (await (await client.req('GET', `/api/events?track=${update.track}`)).json()) as { events: StoredEvent[] };
    expect(listed.events.map((e) => e.type).reverse()).toEqual(['new', 'update', 'update']);

    // Reload: the stores from disk, a new matcher from the reloaded facebank.
    await d.events.close();
    await d.facebank.close();
    const events = await EventStore.open(d.config.dataDir);
    const fb = new Facebank(d.config.dataDir);
    await fb.open();
    try {
      const corrected = events.list({ corrected: true });
      expect(corrected.map((e) => e.id)).toEqual([update.id]);
      expect(corrected[0]!.correction).toMatchObject({ kind: 'not-person', personId: wrong.id });
      expect(events.list({ track: update.track }).map((e) => e.id)).toContain(seen[0]!.id);
      const opts = matcherOptions(d.config.match, d.engine.defaultThreshold);
      const matcher = new Matcher(await fb.people(), await fb.samples(), d.engine.embedderId, opts);
      const before = new Matcher(
        await fb.people(),
        (await fb.samples()).filter((x) => !x.negative),
        d.engine.embedderId,
        opts,
      );
      const faces = (
        await d.engine.analyze(
          frames.map((f) => f.image),
          d.config.pipeline.quality,
        )
      ).flatMap((x) => x.faces);
      const named = (m: Matcher) => faces.filter((f) => m.match(f.embedding).person).length;
      // The face the correction was made on, and the faces of the shot like it, are no longer named.
      const at = frames.findIndex((f) => new Date(f.time).toISOString() === update.frameTime);
      const [own] = await d.engine.analyze([frames[at]!.image], d.config.pipeline.quality);
      expect(matcher.match(own!.faces[0]!.embedding)).toMatchObject({ person: null, reason: 'negative' });
      expect(named(matcher)).toBeLessThan(named(before));
    } finally {
      await events.close();
      await fb.close();
    }
  }, 120_000);
});
