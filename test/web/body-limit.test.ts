/**
 * Request body limits on the real server (issue 23.5): a body over the limit, chunked or not, is refused as soon as
 * the limit is passed, and the server stops reading it; a body from someone not signed in is not read at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { hasTestData } from '../helpers/data.js';
import { buildDeps, type TestDeps } from './deps.js';

const MB = 1024 * 1024;
const LIMIT = 5 * MB;
const BODY = 55 * MB;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** What the kernel's socket buffers hold on loopback besides what the server read (generous). */
const SLACK = 4 * MB;

interface Upload {
  status: number;
  body: string;
  /** Bytes the server had taken when its answer came. */
  atAnswer: number;
  /** Bytes it had taken a second after its answer, while the client went on sending as curl does. */
  after: number;
}

/** Sends up to BODY bytes (chunked unless `length` is declared), honouring backpressure, and keeps sending after the answer. */
function upload(url: string, headers: Record<string, string>, length?: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answer: Omit<Upload, 'after'> | null = null;
    let stopped = false;
    const req = http.request(
      url,
      { method: 'POST', headers: { ...headers, ...(length === undefined ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(length) }) } },
      (res) => {
        let body = '';
        const atAnswer = sent;
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => (answer = { status: res.statusCode ?? 0, body, atAnswer }));
        setTimeout(() => {
          stopped = true;
          req.destroy();
          if (answer) resolve({ ...answer, after: sent });
          else reject(new Error('no complete answer within a second'));
        }, 1000);
      },
    );
    req.on('error', () => {}); // the server may close the connection: what counts is the answer and the bytes taken
    const pump = () => {
      while (!stopped && sent < BODY) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      if (!stopped) req.end();
    };
    pump();
  });
}

describe.skipIf(!hasTestData)('request body limits on the real server', () => {
  let d: TestDeps;
  let server: WebServer;
  let session: Record<string, string>;
  beforeAll(async () => {
    d = await buildDeps({ web: { host: '127.0.0.1', port: 0, https: 'off', maxRequestBytes: LIMIT } });
    server = await startWebServer(d, { notice: () => {} });
    const origin = server.url;
    const res = await fetch(`${origin}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ password: 'a long admin password', claimCode: d.auth.pendingClaimCode() }),
    });
    expect(res.status).toBe(200);
    const cookie = /^([^;]+)/.exec(res.headers.get('set-cookie')!)![1]!;
    session = { cookie, origin, 'x-csrf-token': ((await res.json()) as { csrfToken: string }).csrfToken };
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await d?.cleanup();
  });

  const photos = () => `${server.url}/api/people/p_x/photos`;
  const multipart = { 'content-type': 'multipart/form-data; boundary=x' };

  it('a signed-in chunked 55 MB upload gets 413 at the limit, and the rest is not read', async () => {
    const r = await upload(photos(), { ...session, ...multipart });
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual({ error: 'too_large', message: 'The request is larger than 5.2 MB, the most this appliance accepts.' });
    expect(r.atAnswer).toBeLessThan(LIMIT + SLACK);
    expect(r.after).toBeLessThan(LIMIT + SLACK);
  });

  it('a declared 55 MB body gets 413 before any of it is read', async () => {
    const r = await upload(photos(), { ...session, ...multipart }, BODY);
    expect(r.status).toBe(413);
    expect(r.after).toBeLessThan(SLACK);
  });

  it('without a session, a 55 MB body is refused (401) without being read', async () => {
    const r = await upload(photos(), multipart);
    expect(r.status).toBe(401);
    expect(r.after).toBeLessThan(SLACK);
  });

  it('the public sign-in takes small JSON only: a chunked 55 MB body gets 413 after 1 MB', async () => {
    const r = await upload(`${server.url}/api/login`, { 'content-type': 'application/json', origin: server.url });
    expect(r.status).toBe(413);
    expect(r.after).toBeLessThan(1 * MB + SLACK);
  });
});
