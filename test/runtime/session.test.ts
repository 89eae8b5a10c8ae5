import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { availableProviders, createSession } from '../../src/runtime/session.js';
import { manifestModel } from '../../src/runtime/manifest.js';
import { readManifest } from '../../src/models/manifest.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireEngines } from '../engine/engines.js';
import { FacegateError } from '../../src/util/errors.js';
import { pino } from 'pino';

const tmp = mkdtempSync(path.join(tmpdir(), 'facegate-rt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function captureLog() {
  const lines: { msg: string; provider?: string }[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

describe('runtime sessions', () => {
  const dir = requireEngines();
  const manifest = readManifest(dir);

  it.each(['mobilefacenet', 'mtcnn-pnet', 'mtcnn-rnet', 'mtcnn-onet'])('loads %s against its manifest entry and runs it', async (id) => {
    const { file, entry } = manifestModel(dir, id, manifest);
    const s = await createSession(file, { expect: entry, threads: 1 });
    expect(s.provider).toBe('cpu');
    expect(s.inputs[0]!.dtype).toBe('uint8');
    expect(s.outputs.map((o) => o.name).sort()).toEqual(entry.outputs.map((o) => o.name).sort());
    const shape = s.inputs[0]!.shape.map((d, i) => (d > 0 ? d : i === 0 ? 2 : 30));
    const n = shape.reduce((a, b) => a * b, 1);
    const out = await s.run({ [s.inputs[0]!.name]: { data: new Uint8Array(n).fill(128), dims: shape } });
    for (const o of entry.outputs) expect(out[o.name]!.dims[0]).toBe(2);
    await s.release();
  });

  it('falls back to cpu with one log line per provider this build lacks', async () => {
    const { file, entry } = manifestModel(dir, 'mtcnn-rnet', manifest);
    const { log, lines } = captureLog();
    const s = await createSession(file, { expect: entry, providers: ['tensorrt', 'cuda', 'cpu'], log, enginesDir: tmp });
    const missing = ['tensorrt', 'cuda'].filter((p) => availableProviders().get(p) !== true);
    expect(s.provider).toBe(missing.length === 2 ? 'cpu' : expect.any(String));
    for (const p of missing) expect(lines.filter((l) => l.provider === p && /falling back/.test(l.msg))).toHaveLength(1);
    await s.release();
  });

  it('rejects a missing, empty, corrupt or wrong model with the file path in the message', async () => {
    const { file, entry } = manifestModel(dir, 'mtcnn-onet', manifest);
    const fail = async (p: string, code: string, re: RegExp, expect_ = entry) => {
      const e = await createSession(p, { expect: expect_, warmup: false }).catch((x) => x);
      expect(e).toBeInstanceOf(FacegateError);
      expect((e as FacegateError).code).toBe(code);
      expect((e as Error).message).toContain(p);
      expect((e as Error).message).toMatch(re);
    };
    await fail(path.join(tmp, 'nope.onnx'), 'model_missing', /not found/);
    const empty = path.join(tmp, 'empty.onnx');
    writeFileSync(empty, '');
    await fail(empty, 'model_corrupt', /empty/);
    const bytes = readFileSync(file);
    const cut = path.join(tmp, 'cut.onnx');
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    await fail(cut, 'model_mismatch', /sha256/);
    await fail(cut, 'model_corrupt', /cannot be loaded/, { ...entry, sha256: undefined });
    // A valid model that is not the one the manifest describes: R-Net where O-Net is expected.
    const other = path.join(tmp, 'rnet-as-onet.onnx');
    copyFileSync(manifestModel(dir, 'mtcnn-rnet', manifest).file, other);
    await fail(other, 'model_mismatch', /dim 1 is 24, expected 48|landmarks/, { ...entry, sha256: undefined });
  });

  it.skipIf(!hasTestData)('reads the input layout of a bring-your-own model', async () => {
    const s = await createSession(dataPath('models/scrfd/scrfd_500m_bnkps.onnx'), { warmupDim: 64 });
    expect(s.inputs[0]).toMatchObject({ dtype: 'float32' });
    expect(s.inputs[0]!.shape.slice(1)).toEqual([3, -1, -1]);
    expect(s.outputs.length).toBe(9);
    await s.release();
  });
});
