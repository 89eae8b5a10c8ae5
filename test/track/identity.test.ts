/**
 * Identity on real frames through the real engine, matcher, tracker and loop (MTCNN, and the YuNet reference
 * detector when it is in the shared data): a face never inherits another face's name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { chooseFace } from '../../src/engine/choose-face.js';
import { decodeImage } from '../../src/ingest/still.js';
import { readFrames } from '../../src/ingest/reader.js';
import { PipelineLoop, type LatestFaces, type LoopFrame } from '../../src/pipeline/loop.js';
import { nullObserver, type PipelineObserver } from '../../src/pipeline/observer.js';
import type { RecognitionEvent } from '../../src/events/types.js';
import type { Person, Sample } from '../../src/store/types.js';
import { Bus } from '../../src/events/bus.js';
import { silentLogger } from '../../src/util/log.js';
import type { RgbImage } from '../../src/vision/types.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { testEngineConfig } from '../engine/engines.js';

const lfw = (name: string, n: number) => dataPath('lfw', 'lfw-deepfunneled', name, `${name}_${String(n).padStart(4, '0')}.jpg`);
const CLIP = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');
const LIN = 'Lin-Manuel Miranda';
const yunetModel = dataPath('models', 'yunet', 'yunet_n_dynamic.onnx');
const detectors: [string, Record<string, unknown>][] = [['mtcnn', { kind: 'mtcnn' }]];
if (existsSync(yunetModel) || process.env.CI) detectors.push(['yunet', { kind: 'yunet', model: yunetModel }]);

/** An in-memory facebank enrolled from photos, as `facegate enroll` does. */
class MemoryFacebank {
  readonly list: Person[] = [];
  readonly rows: Sample[] = [];
  constructor(
    private readonly engine: FaceEngine,
    private readonly config: Config,
  ) {}
  /** One sample per photo with one usable face (others are refused, as enrol does). */
  async enrol(name: string, ...files: string[]): Promise<Person> {
    const p: Person = { id: `p${this.list.length + 1}`, name, created: '', notes: '' };
    const before = this.rows.length;
    for (const file of files) {
      const [r] = await this.engine.analyze([await decodeImage(file)], this.config.pipeline.quality);
      const c = chooseFace(r!);
      if (c.kind !== 'face') continue;
      this.rows.push({
        id: `s${this.rows.length + 1}`,
        personId: p.id,
        embedding: Float32Array.from(c.face.embedding),
        modelId: this.engine.embedderId,
        quality: c.face.quality,
        source: 'cli',
        created: '',
        negative: false,
      });
    }
    if (this.rows.length === before) throw new Error(`no usable face for ${name}`);
    this.list.push(p);
    return p;
  }
  people = async () => this.list;
  samples = async () => this.rows;
}

/** Every frame's boxes as the live view draws them. */
class BoxRecorder implements PipelineObserver {
  readonly frames: LatestFaces[] = [];
  stage = nullObserver.stage;
  batch = nullObserver.batch;
  faces = nullObserver.faces;
  framesDropped = nullObserver.framesDropped;
  eventLatency = nullObserver.eventLatency;
  frame(_camera: string, f: LatestFaces) {
    this.frames.push(f);
  }
}

/** A w×h window of an image at (x, y): the same photo, moved a little, as consecutive video frames are. */
function crop(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++) data.set(img.data.subarray(((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3), r * w * 3);
  return { width: w, height: h, data };
}

const said = (evs: RecognitionEvent[]) => evs.map((e) => `${e.type}:${e.person?.name ?? 'unknown'}:${e.track}`);

describe.skipIf(!hasTestData)('identity on real frames', () => {
  for (const [label, detector] of detectors) {
    describe(`with ${label}`, () => {
      let engine: FaceEngine;
      beforeAll(async () => {
        engine = await createFaceEngine(testEngineConfig({ detector }), { log: silentLogger() });
      }, 60_000);
      afterAll(() => engine?.close());

      const run = async (config: Config, facebank: MemoryFacebank, frames: LoopFrame[]) => {
        const observer = new BoxRecorder();
        const loop = new PipelineLoop({ sources: [], engine, facebank, bus: new Bus(), config, log: silentLogger(), observer, runId: 'r', batchFrames: 4 });
        const events = await loop.processFrames(frames);
        events.push(...(await loop.flush(frames.at(-1)!.time + 5000)));
        return { events, boxes: observer.frames };
      };

      // Two people, one photo each enrolled; a second photo of each is the "video", the second person stepping
      // into the first one's place 200 ms after the first leaves (LFW photos are centred on the face).
      const twoPeople = async (config: Config, enrolSecond: boolean) => {
        const fb = new MemoryFacebank(engine, config);
        await fb.enrol('Colin Powell', lfw('Colin_Powell', 40));
        if (enrolSecond) await fb.enrol('Tony Blair', lfw('Tony_Blair', 48));
        const a = await decodeImage(lfw('Colin_Powell', 133));
        const b = await decodeImage(lfw('Tony_Blair', 32));
        const frames: LoopFrame[] = [];
        for (let i = 0; i < 6; i++) frames.push({ camera: 'door', image: crop(a, 4 + (i % 3), 4, 240, 240), time: i * 200 });
        for (let i = 6; i < 12; i++) frames.push({ camera: 'door', image: crop(b, 4 + (i % 3), 4, 240, 240), time: i * 200 });
        return run(config, fb, frames);
      };

      for (const cut of [false, true]) {
        const how = cut ? 'with scene-cut detection' : 'on appearance alone (scene cuts off)';
        it(`a second person in the first one's place never carries the first one's name (${how})`, async () => {
          const config = configSchema.parse({ track: { sceneCut: cut ? 0.15 : 1 } });
          const known = await twoPeople(config, true);
          expect(said(known.events)).toEqual(['new:Colin Powell:door-r-1', 'end:Colin Powell:door-r-1', 'new:Tony Blair:door-r-2', 'end:Tony Blair:door-r-2']);
          // Tony Blair's frames (from 1200 ms) never draw Colin Powell.
          const later = known.boxes.filter((f) => f.time >= 1200).flatMap((f) => f.boxes);
          expect(later.length).toBeGreaterThanOrEqual(6);
          expect(later.filter((b) => b.name === 'Colin Powell')).toEqual([]);
          const stranger = await twoPeople(config, false);
          expect(said(stranger.events)).toEqual(['new:Colin Powell:door-r-1', 'end:Colin Powell:door-r-1', 'new:unknown:door-r-2', 'end:unknown:door-r-2']);
          expect(stranger.boxes.filter((f) => f.time >= 1200).flatMap((f) => f.boxes.filter((b) => b.name !== null))).toEqual([]);
        }, 120_000);
      }

      it('Hamilton clip: Lin-Manuel Miranda is named, and never on another face or outside his shots', async () => {
        const config = configSchema.parse({});
        const fb = new MemoryFacebank(engine, config);
        await fb.enrol(LIN, dataPath('video', 'hamilton', 'lin-manuel-miranda.png'));
        for (const who of ['amy', 'howard', 'leonard', 'penny', 'raj', 'sheldon'])
          await fb.enrol(who, ...[1, 2, 3, 4, 5].map((k) => dataPath('identity', 'bbt', who, `${who}${k}.png`)));
        const frames: LoopFrame[] = [];
        for await (const f of readFrames(CLIP, { fps: 5, width: 640 })) frames.push({ camera: 'stage', image: f.image, time: f.offsetMs });
        const { events, boxes } = await run(config, fb, frames);
        // Lin-Manuel Miranda is on screen from 0 to 1.5 s and from 3.6 to 7.7 s; the clip cuts to the audience
        // (Barack and Michelle Obama, strangers here) at 7.8 s.
        const his = (t: number) => t < 1500 || (t >= 3500 && t < 7750);
        const named = boxes.flatMap((f) => f.boxes.filter((b) => b.name !== null).map((b) => ({ ...b, time: f.time })));
        expect(named.length).toBeGreaterThan(10);
        expect(named.filter((b) => b.name !== LIN)).toEqual([]);
        expect(named.filter((b) => !his(b.time))).toEqual([]);
        // Each name is drawn with the face's own similarity to him, never far under the threshold.
        for (const b of named) expect(b.similarity).toBeGreaterThanOrEqual(engine.defaultThreshold - config.track.dropMargin);
        // Audience faces are there, tracked, and drawn without a name.
        expect(boxes.filter((f) => f.time >= 7800).flatMap((f) => f.boxes).length).toBeGreaterThan(10);
        const naming = events.filter((e) => e.person);
        expect(naming.some((e) => e.type === 'new' && e.person!.name === LIN)).toBe(true);
        expect(naming.filter((e) => e.person!.name !== LIN)).toEqual([]);
        // Every event that names him belongs to a track that lived within his shots.
        const tracks = new Map<string, number[]>();
        for (const f of boxes) for (const b of f.boxes) if (b.track) tracks.set(b.track, [...(tracks.get(b.track) ?? []), f.time]);
        for (const e of naming) expect((tracks.get(e.track) ?? []).every(his)).toBe(true);
      }, 180_000);
    });
  }
});
