/**
 * Start-up re-embedding with real models: people enrolled with the default MobileFaceNet, then the appliance is
 * started with another embedder (the float-NCHW ArcFace-style MobileFaceNet that test/engine/byo.test.ts builds).
 * Every sample is re-embedded from its stored crop at start-up, and the enrolled person is still named in video.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAppliance, type Appliance } from '../../src/app/appliance.js';
import { configSchema } from '../../src/config/schema.js';
import { tfliteToOnnx } from '../../src/convert/index.js';
import { chooseFace } from '../../src/engine/choose-face.js';
import { engineFromConfig } from '../../src/engine/setup.js';
import { decodeImage } from '../../src/ingest/still.js';
import type { RecognitionEvent } from '../../src/events/types.js';
import { Facebank } from '../../src/store/facebank.js';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { modelSpec, tfliteBytes } from '../helpers/models.js';
import { freePort } from '../helpers/ports.js';
import { captureLogger } from '../ingest/util.js';
import { readFacebankFiles } from '../../src/store/facebank.js';

const LIN = 'Lin-Manuel Miranda';

describe.skipIf(!hasTestData)('start-up re-embedding after an embedder change', { timeout: 240_000 }, () => {
  let dir: string;
  let app: Appliance | null = null;
  afterAll(async () => {
    await app?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  let model: string;
  let defaultId: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-reembed-'));
    // The ArcFace-style embedder: MobileFaceNet with a float NCHW input fed (x - 127.5) / 127.5.
    const mfn = modelSpec('mobilefacenet');
    model = path.join(dir, 'w600k_like.onnx');
    const input = { ...mfn.input, name: 'input.1', layout: 'float-nchw' as const, mean: 0, std: 128 / 127.5 };
    await writeFile(model, tfliteToOnnx(tfliteBytes('mobilefacenet'), input, 'byo', (c) => mfn.outputs(c), { producer: 'facegate-test', version: '0' }).onnx);

    // Enrol with the default engine, as `facegate enroll` does.
    const config = configSchema.parse({ dataDir: path.join(dir, 'data'), engine: { enginesDir: path.join(repoRoot, 'engines') } });
    const engine = await engineFromConfig(config);
    defaultId = engine.embedderId;
    const fb = new Facebank(config.dataDir);
    await fb.open();
    const enrol = async (name: string, files: string[]) => {
      const p = await fb.createPerson(name);
      for (const f of files) {
        const c = chooseFace((await engine.analyze([await decodeImage(f)], config.pipeline.quality))[0]!);
        if (c.kind !== 'face') throw new Error(`no usable face in ${f}`);
        await fb.addSample(p.id, { embedding: c.face.embedding, modelId: engine.embedderId, quality: c.face.quality, source: 'cli', crop: c.face.aligned });
      }
    };
    await enrol(LIN, [dataPath('video', 'hamilton', 'lin-manuel-miranda.png')]);
    for (const who of ['howard', 'raj']) {
      const d = dataPath('identity', 'bbt', who);
      await enrol(
        who,
        readdirSync(d).map((f) => path.join(d, f)),
      );
    }
    await fb.close();
    await engine.close();
  });

  it('re-embeds every sample from its crop at start-up and still names the enrolled person in video', async () => {
    const before = await readFacebankFiles(path.join(dir, 'data'));
    expect(before.samples.length).toBeGreaterThanOrEqual(3);
    expect(new Set(before.samples.map((s) => s.modelId))).toEqual(new Set([defaultId]));

    const { log, lines } = captureLogger();
    const config = configSchema.parse({
      dataDir: path.join(dir, 'data'),
      engine: { enginesDir: path.join(repoRoot, 'engines'), embedder: { kind: 'arcface', model } },
      cameras: [{ name: 'stage', url: dataPath('video', 'hamilton', 'short_hamilton_clip.mp4'), loop: true }],
      mqtt: { embedded: { host: '127.0.0.1', port: await freePort() }, prefix: 'reembed' },
      web: { enabled: false },
    });
    const named: RecognitionEvent[] = [];
    app = await startAppliance(config, { log });
    app.bus.on('recognition', (e) => e.person && named.push(e));
    expect(app.engine.embedderId).not.toBe(defaultId);
    expect(app.engine.embedderId).toMatch(/^w600k_like@/);
    const re = lines.find((l) => l.msg === 'facebank re-embedded for the new embedder');
    expect(re).toMatchObject({ updated: before.samples.length, failed: 0 });
    const after = await readFacebankFiles(path.join(dir, 'data'));
    expect(after.samples.map((s) => s.id).sort()).toEqual(before.samples.map((s) => s.id).sort());
    expect(new Set(after.samples.map((s) => s.modelId))).toEqual(new Set([app.engine.embedderId]));

    // The matcher only compares samples of the running embedder: a name now proves the re-embedded samples work.
    const end = Date.now() + 120_000;
    while (!named.length && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect(named.length).toBeGreaterThan(0);
    expect(new Set(named.map((e) => e.person!.name))).toEqual(new Set([LIN]));
  });
});
