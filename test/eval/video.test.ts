import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { chooseFace } from '../../src/engine/choose-face.js';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { evalVideo } from '../../src/eval/run-video.js';
import { parseAppearance, scoreVideo } from '../../src/eval/video.js';
import { decodeImage } from '../../src/ingest/still.js';
import type { Person, Sample } from '../../src/store/types.js';
import { silentLogger } from '../../src/util/log.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { testEngineConfig } from '../engine/engines.js';

describe('video scoring', () => {
  it('reads who appears, and when', () => {
    expect(parseAppearance('Ann')).toEqual({ name: 'Ann', ranges: null });
    expect(parseAppearance('Ann Lee@0-1.5, 3.6-7.7')).toEqual({
      name: 'Ann Lee',
      ranges: [
        [0, 1.5],
        [3.6, 7.7],
      ],
    });
    expect(() => parseAppearance('Ann@5-2')).toThrow(/start-end/);
    expect(() => parseAppearance('@1-2')).toThrow(/needs a name/);
  });

  it('counts a track wrong when any name it got is not someone on screen then, and boxes the same way', () => {
    const appears = [parseAppearance('Ann@0-5'), parseAppearance('Bob')];
    const s = scoreVideo(
      [
        { track: 't1', times: [1, 2], names: ['Ann'], decided: true },
        { track: 't2', times: [4, 6], names: ['Ann'], decided: true }, // Ann's track runs past her last second
        { track: 't3', times: [7], names: ['Bob', 'Cy'], decided: true }, // Cy is not listed
        { track: 't4', times: [8], names: [], decided: true },
        { track: 't5', times: [9], names: [], decided: false }, // never decided: not counted
      ],
      [
        { time: 1, name: 'Ann' },
        { time: 6, name: 'Ann' },
        { time: 7, name: null },
      ],
      appears,
    );
    expect(s).toMatchObject({ tracks: 4, namedCorrectly: 1, namedWrongly: 2, leftUnknown: 1, boxesNamed: 2, boxesWrong: 1, peopleNamed: ['Ann'] });
    expect(s.wrong.map((w) => w.track)).toEqual(['t2', 't3']);
  });
});

describe.skipIf(!hasTestData)('eval video on the Hamilton clip (real models)', () => {
  let engine: FaceEngine;
  const LIN = 'Lin-Manuel Miranda';
  const appears = [parseAppearance(`${LIN}@0-1.5,3.5-7.75`)];
  const facebank = { people: async (): Promise<Person[]> => [], samples: async (): Promise<Sample[]> => [] };
  beforeAll(async () => {
    engine = await createFaceEngine(testEngineConfig(), { log: silentLogger() });
    const [r] = await engine.analyze([await decodeImage(dataPath('video', 'hamilton', 'lin-manuel-miranda.png'))]);
    const c = chooseFace(r!);
    if (c.kind !== 'face') throw new Error('no face in the enrolment photo');
    const person: Person = { id: 'lin', name: LIN, created: '', notes: '' };
    const sample: Sample = {
      id: 's',
      personId: 'lin',
      embedding: Float32Array.from(c.face.embedding),
      modelId: engine.embedderId,
      quality: c.face.quality,
      source: 'cli',
      created: '',
      negative: false,
    };
    facebank.people = async () => [person];
    facebank.samples = async () => [sample];
  }, 60_000);
  afterAll(() => engine?.close());
  const clip = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');

  it('names Lin-Manuel Miranda and no other face', async () => {
    const r = await evalVideo(engine, facebank, configSchema.parse({}), silentLogger(), clip, appears, { fps: 5, width: 640 });
    expect(r).toMatchObject({ namedWrongly: 0, boxesWrong: 0, peopleNamed: [LIN], frames: 50 });
    expect(r.namedCorrectly).toBeGreaterThanOrEqual(1);
    expect(r.leftUnknown).toBeGreaterThanOrEqual(2); // the audience
  }, 120_000);

  it('catches the name moving to the audience when tracks follow boxes only', async () => {
    const boxesOnly = configSchema.parse({ track: { appearance: -1, sceneCut: 1, dropFrames: 100 } });
    const r = await evalVideo(engine, facebank, boxesOnly, silentLogger(), clip, appears, { fps: 5, width: 640 });
    expect(r.namedWrongly).toBeGreaterThanOrEqual(1);
    expect(r.wrong.some((w) => w.names.includes(LIN) && w.to >= 7.8)).toBe(true);
  }, 120_000);
});
