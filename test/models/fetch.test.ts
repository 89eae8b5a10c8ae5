/**
 * Obtaining the pinned YuNet-n file from a real HTTP server started here (serving the shared copy) and from a
 * mirror folder: verified, atomic, nothing left behind on any failure, stalls time out.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeFetch, MIRROR_ENV, obtainPinned, sourcesFor } from '../../src/models/fetch.js';
import { readManifest } from '../../src/models/manifest.js';
import { YUNET_N, type PinnedModel } from '../../src/models/pinned.js';
import { dataPath, hasTestData } from '../helpers/data.js';

const yunetDir = dataPath('models/yunet');

describe.skipIf(!hasTestData)('facegate models: the pinned YuNet-n', () => {
  let body: Buffer;
  let server: http.Server;
  let base: string;
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  let dir: string;
  const model = (route: string): PinnedModel => ({ ...YUNET_N, url: `${base}/${route}/${YUNET_N.sourceName}` });
  const left = () => readdirSync(dir);

  // CI points the mirror at the shared copy for set-up; these tests choose their own sources.
  const mirrorFromEnv = process.env[MIRROR_ENV];
  beforeAll(async () => {
    delete process.env[MIRROR_ENV];
    body = readFileSync(path.join(yunetDir, YUNET_N.sourceName));
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const route = (req.url ?? '').split('/')[1];
      if (route === 'good') return res.end(body);
      if (route === 'bad') {
        const b = Buffer.from(body);
        b[b.length >> 1]! ^= 0xff;
        return res.end(b);
      }
      if (route === 'truncated') {
        res.writeHead(200, { 'Content-Length': body.length });
        res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
        return;
      }
      if (route === 'stall') {
        res.writeHead(200, { 'Content-Length': body.length });
        res.write(body.subarray(0, 4096));
        return; // never finishes
      }
      res.writeHead(404).end('not found');
    });
    server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    if (mirrorFromEnv !== undefined) process.env[MIRROR_ENV] = mirrorFromEnv;
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'facegate-fetch-'));
    requests.length = 0;
    return () => rmSync(dir, { recursive: true, force: true });
  });

  it('downloads, verifies and records it; a second run finds it and downloads nothing', async () => {
    const r = await obtainPinned(model('good'), dir);
    expect(r.status).toBe('fetched');
    const file = path.join(dir, 'yunet-n.onnx');
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(YUNET_N.sha256);
    const entry = readManifest(dir).models['yunet-n'];
    expect(entry).toMatchObject({
      file: 'yunet-n.onnx',
      sha256: YUNET_N.sha256,
      licence: 'Apache-2.0',
      source: { version: YUNET_N.commit, path: 'onnx/yunet_n_dynamic.onnx' },
    });
    const licence = readFileSync(path.join(dir, 'yunet-n.LICENSE'), 'utf8');
    expect(licence).toContain('Apache License');
    expect(licence).toContain(YUNET_N.commit);
    expect(describeFetch(r, YUNET_N)).toMatch(/^yunet-n: obtained from http:\/\/127\.0\.0\.1:\d+\/good\/yunet_n_dynamic\.onnx \(315 kB, sha256 verified/);
    expect(requests).toEqual(['/good/yunet_n_dynamic.onnx']);

    const again = await obtainPinned(model('good'), dir);
    expect(again.status).toBe('present');
    expect(requests).toHaveLength(1);
    expect(left().sort()).toEqual(['manifest.json', 'yunet-n.LICENSE', 'yunet-n.onnx']);
  });

  it('refuses a body whose sha256 differs and leaves nothing behind', async () => {
    const r = await obtainPinned(model('bad'), dir);
    expect(r.status).toBe('unavailable');
    expect(r.failures[0]!.error).toMatch(/sha256 .* is not the pinned .*refused/);
    expect(left()).toEqual([]);
    expect(describeFetch(r, YUNET_N)).toMatch(/the detector is MTCNN\. To add YuNet later.*--from <folder>/);
  });

  it('reports a 404', async () => {
    const r = await obtainPinned(model('missing'), dir);
    expect(r).toMatchObject({ status: 'unavailable', failures: [{ error: 'HTTP 404 Not Found' }] });
    expect(left()).toEqual([]);
  });

  it('refuses a truncated body', async () => {
    const r = await obtainPinned(model('truncated'), dir);
    expect(r.status).toBe('unavailable');
    expect(r.failures[0]!.error).toMatch(/terminated|truncated|closed|socket/i);
    expect(left()).toEqual([]);
  });

  it('gives up on a stalled server', async () => {
    const t0 = Date.now();
    const r = await obtainPinned(model('stall'), dir, { idleMs: 400 });
    expect(r.status).toBe('unavailable');
    expect(r.failures[0]!.error).toBe('stalled: no data for 0.4 s');
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(left()).toEqual([]);
  });

  it('reports an unreachable server as unavailable, not as an error', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const r = await obtainPinned({ ...YUNET_N, url: `http://127.0.0.1:${port}/x.onnx` }, dir);
    expect(r.status).toBe('unavailable');
    expect(r.failures[0]!.error).toMatch(/ECONNREFUSED/);
    expect(left()).toEqual([]);
  });

  it('takes it from a mirror folder first (flag or environment), and from a mirror URL', async () => {
    const r = await obtainPinned(model('missing'), dir, { from: yunetDir });
    expect(r).toMatchObject({ status: 'fetched', source: path.join(yunetDir, YUNET_N.sourceName) });
    expect(requests).toEqual([]);
    rmSync(path.join(dir, 'yunet-n.onnx'));
    const viaEnv = await obtainPinned(model('missing'), dir, { env: { [MIRROR_ENV]: `${base}/good/` } });
    expect(viaEnv.status).toBe('fetched');
    expect(requests).toEqual(['/good/yunet_n_dynamic.onnx']);
  });

  it('falls back from a failing mirror to the pinned URL', async () => {
    const r = await obtainPinned(model('good'), dir, { from: `${base}/missing` });
    expect(r.status).toBe('fetched');
    expect(requests).toEqual(['/missing/yunet_n_dynamic.onnx', '/good/yunet_n_dynamic.onnx']);
    expect(sourcesFor(YUNET_N, { from: '/srv/models' }).map((s) => s.where)).toEqual(['/srv/models', YUNET_N.url]);
  });
});
