/** Claiming a new appliance, the Host check, HTTPS on the admin port, the reverse-proxy trust, tokens and accounts. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import https from 'node:https';
import { request } from 'node:http';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Hono } from 'hono';
import { createApp } from '../../src/web/app.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { AuthStore } from '../../src/store/auth.js';
import { passwdCommand } from '../../src/cli/passwd.js';
import { prepareAdmin } from '../../src/cli/admin-access.js';
import { createLogger } from '../../src/util/log.js';
import { hasTestData } from '../helpers/data.js';
import { buildDeps, type DepsOptions, type TestDeps } from './deps.js';
import { TestClient, testClientIp } from './client.js';

const PASSWORD = 'a long admin password';

/** Deps whose log lines are kept in `text`. */
async function logged(opts: DepsOptions = {}) {
  const log = { text: '' };
  const sink = new Writable({
    write(chunk, _e, cb) {
      log.text += String(chunk);
      cb();
    },
  });
  const d = await buildDeps({ ...opts, log: createLogger('info', sink) });
  return { d, log };
}

/** GET/POST over real HTTPS trusting exactly `ca`; resolves status, headers and body. */
function httpsRequest(url: string, ca: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; peer: X509Certificate }>((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? 'GET', ca, headers: init.headers }, (res) => {
      let body = '';
      const peer = (res.socket as import('node:tls').TLSSocket).getPeerX509Certificate()!;
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, peer }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe.skipIf(!hasTestData)('claiming a new appliance', () => {
  let d: TestDeps;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    d = await buildDeps();
    app = createApp({ ...d, clientIp: testClientIp });
  }, 60_000);
  afterAll(() => d?.cleanup());

  it('refuses set-up without the claim code or with a wrong one', async () => {
    const c = new TestClient(app);
    const none = await c.req('POST', '/api/setup', { json: { password: PASSWORD } });
    expect(none.status).toBe(403);
    expect(await none.json()).toMatchObject({ error: 'claim_code_required' });
    const wrong = await c.signIn(PASSWORD, '/api/setup', 'AAAA-BBBB-CCCC');
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: 'bad_claim_code' });
    expect(d.auth.hasPassword()).toBe(false);
  });

  it('refuses a foreign Host (DNS rebinding), even with a matching Origin and the right code', async () => {
    const evil = new TestClient(app, 'http://evil.example');
    const r = await evil.req('POST', '/api/setup', {
      json: { password: PASSWORD, claimCode: d.auth.pendingClaimCode() },
      headers: { origin: 'http://evil.example' },
    });
    expect(r.status).toBe(421);
    expect(await r.json()).toMatchObject({ error: 'bad_host' });
    expect((await evil.req('GET', '/')).status).toBe(421);
    expect(d.auth.hasPassword()).toBe(false);
    // By IP address and by a configured name the page answers.
    expect((await new TestClient(app, 'http://192.168.1.20:8080').req('GET', '/api/session-status')).status).toBe(200);
    expect((await new TestClient(app, 'http://facegate.local').req('GET', '/api/session-status')).status).toBe(200);
  });

  it('two concurrent claims with the right code: exactly one wins, its password works', async () => {
    const code = d.auth.pendingClaimCode()!;
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    const a = new TestClient(app);
    const b = new TestClient(app);
    const [ra, rb] = await Promise.all([
      a.signIn('first claimant password', '/api/setup', code),
      b.signIn('second claimant password', '/api/setup', code.toLowerCase()),
    ]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = ra.status === 200 ? 'first claimant password' : 'second claimant password';
    const loser = ra.status === 200 ? 'second claimant password' : 'first claimant password';
    expect((await new TestClient(app).signIn(winner)).status).toBe(200);
    expect((await new TestClient(app).signIn(loser)).status).toBe(401);
    // The code is spent: gone from auth.json.
    await d.auth.flush();
    const file = JSON.parse(await readFile(path.join(d.config.dataDir, 'auth.json'), 'utf8'));
    expect(file.claimCode).toBeNull();
    expect(d.auth.pendingClaimCode()).toBeNull();
  });

  it('passwd --reset with no appliance running forgets password, sessions and tokens and prints a new claim code', async () => {
    // A data directory no process holds (buildDeps' facebank holds its lock, as a CLI job would).
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'facegate-passwd-'));
    try {
      const auth = await AuthStore.open({ dataDir, sessionHours: 1 });
      await auth.setInitialPassword(PASSWORD);
      await auth.createToken('automation');
      await auth.flush();
      const out: string[] = [];
      const rc = await passwdCommand.run(
        { values: { reset: true, 'data-dir': dataDir, json: true }, positionals: [] },
        { stdout: (l) => out.push(l), stderr: () => {} },
      );
      expect(rc).toBe(0);
      expect(JSON.parse(out.at(-1)!)).toMatchObject({ reset: true, via: 'local' });
      const printed = JSON.parse(out.at(-1)!).claimCode as string;
      const reopened = await AuthStore.open({ dataDir, sessionHours: 1 });
      expect(reopened.hasPassword()).toBe(false);
      expect(reopened.pendingClaimCode()).toBe(printed);
      expect(reopened.tokens()).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('install-service prints the claim code it stored, or sets a password given at install time', async () => {
    const dirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'facegate-install-'))));
    try {
      const r = await prepareAdmin(dirs[0]!);
      expect(r.message).toContain(r.claimCode!);
      expect((await AuthStore.open({ dataDir: dirs[0]!, sessionHours: 1 })).pendingClaimCode()).toBe(r.claimCode);
      const set = await prepareAdmin(dirs[1]!, PASSWORD);
      expect(set).toMatchObject({ claimCode: null, passwordSet: true, message: 'Admin password set from standard input.' });
      const a = await AuthStore.open({ dataDir: dirs[1]!, sessionHours: 1 });
      expect(await a.checkPassword(PASSWORD)).toBe(true);
      // Run again with another password: the one set stays, and the message says the new one was not used.
      const again = await prepareAdmin(dirs[1]!, 'another long password');
      expect(again.message).toMatch(/already set; the one from standard input was not used/);
      expect(await (await AuthStore.open({ dataDir: dirs[1]!, sessionHours: 1 })).checkPassword(PASSWORD)).toBe(true);
    } finally {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasTestData)('HTTPS on the admin port', () => {
  let d: TestDeps;
  let log: { text: string };
  let server: WebServer;
  const notices: string[] = [];
  beforeAll(async () => {
    ({ d, log } = await logged({ web: { host: '127.0.0.1', port: 0, https: 'on' } }));
    server = await startWebServer(d, { before: new Hono().get('/healthz', (c) => c.json({ status: 'ok' })), notice: (t) => notices.push(t) });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await d?.cleanup();
  });

  it('makes a self-signed certificate at first start; the claim code is told once, outside the log, with the fingerprint and address', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const pem = await readFile(path.join(d.config.dataDir, 'tls', 'cert.pem'), 'utf8');
    const cert = new X509Certificate(pem);
    expect(log.text).toContain(cert.fingerprint256);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain(`Claim code: ${d.auth.pendingClaimCode()!}`);
    expect(notices[0]).toContain(`Admin page: ${server.url}`);
    expect(notices[0]).toContain(`Certificate SHA-256: ${cert.fingerprint256}`);
    // The structured log (often shipped off the box) says where the code is, not the code.
    expect(log.text).not.toContain(d.auth.pendingClaimCode()!);
    // The key is private.
    const { stat } = await import('node:fs/promises');
    expect((await stat(path.join(d.config.dataDir, 'tls', 'key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('serves the page over TLS with that certificate; set-up cookies are Secure', async () => {
    const pem = await readFile(path.join(d.config.dataDir, 'tls', 'cert.pem'), 'utf8');
    const page = await httpsRequest(`${server.url}/`, pem);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<main id="main"');
    expect(page.peer.fingerprint256).toBe(server.fingerprint);
    const setup = await httpsRequest(`${server.url}/api/setup`, pem, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ password: PASSWORD, claimCode: d.auth.pendingClaimCode() }),
    });
    expect(setup.status).toBe(200);
    expect(String(setup.headers['set-cookie'])).toMatch(/;\s*Secure/i);
  });

  it('plain HTTP on the same port only redirects to https', async () => {
    const http = server.url.replace('https:', 'http:');
    const r = await fetch(`${http}/api/people?x=1`, { redirect: 'manual' });
    expect(r.status).toBe(308);
    expect(r.headers.get('location')).toBe(`${server.url}/api/people?x=1`);
    const evil = await new Promise<number>((resolve, reject) =>
      request(`${http}/`, { headers: { host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode!)))
        .on('error', reject)
        .end(),
    );
    expect(evil).toBe(421);
    // Probes stay reachable without TLS, for monitors.
    const probe = await fetch(`${http}/healthz`, { redirect: 'manual' });
    expect(probe.status).toBe(200);
    expect(await probe.json()).toEqual({ status: 'ok' });
  });
});

describe.skipIf(!hasTestData)('behind a reverse proxy', () => {
  const cases: { trust: boolean; d?: TestDeps; server?: WebServer }[] = [{ trust: true }, { trust: false }];
  beforeAll(async () => {
    for (const c of cases) {
      c.d = await buildDeps({
        password: PASSWORD,
        web: { host: '127.0.0.1', port: 0, https: 'off', trustProxy: c.trust, trustedProxies: ['127.0.0.1/8', '::1'] },
      });
      c.server = await startWebServer(c.d);
    }
  }, 60_000);
  afterAll(async () => {
    for (const c of cases) {
      await c.server?.close();
      await c.d?.cleanup();
    }
  });
  const login = (c: (typeof cases)[number], client: string, password: string) =>
    fetch(`${c.server!.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `${client}, 127.0.0.1`, 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ password }),
    });

  it('with trustProxy, the forwarded client is rate-limited on its own and cookies are Secure', async () => {
    const c = cases[0]!;
    for (let i = 0; i < 5; i++) expect((await login(c, '203.0.113.7', 'wrong wrong wrong')).status).toBe(401);
    expect((await login(c, '203.0.113.7', PASSWORD)).status).toBe(429);
    const other = await login(c, '198.51.100.9', PASSWORD);
    expect(other.status).toBe(200);
    expect(other.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
  });

  it('without it, X-Forwarded-* is ignored: one address, no Secure flag over plain HTTP', async () => {
    const c = cases[1]!;
    const first = await login(c, '198.51.100.9', PASSWORD);
    expect(first.headers.get('set-cookie')).not.toMatch(/Secure/i);
    for (let i = 0; i < 4; i++) await login(c, '203.0.113.7', 'wrong wrong wrong');
    expect((await login(c, '198.51.100.10', PASSWORD)).status).toBe(429);
  });
});

describe.skipIf(!hasTestData)('accounts and tokens', () => {
  let d: TestDeps;
  let app: ReturnType<typeof createApp>;
  let admin: TestClient;
  beforeAll(async () => {
    d = await buildDeps({ password: PASSWORD });
    app = createApp({ ...d, clientIp: testClientIp });
    admin = new TestClient(app);
    expect((await admin.signIn(PASSWORD)).status).toBe(200);
  }, 60_000);
  afterAll(() => d?.cleanup());
  afterEach(() => vi.useRealTimers());

  const mint = async (by: TestClient, json: object) => by.req('POST', '/api/tokens', { json });

  it('a read-only token reads but cannot change anything or mint tokens; an admin token can', async () => {
    const read = (await (await mint(admin, { name: 'dashboard', scope: 'read' })).json()) as { token: string; scope: string };
    expect(read.scope).toBe('read');
    const bot = new TestClient(app);
    bot.bearer = read.token;
    expect((await bot.req('GET', '/api/people')).status).toBe(200);
    const write = await bot.req('POST', '/api/people', { json: { name: 'By A Reader' } });
    expect(write.status).toBe(403);
    expect(await write.json()).toMatchObject({ error: 'read_only' });
    expect((await mint(bot, { name: 'escalate', scope: 'admin' })).status).toBe(403);
    const adm = (await (await mint(admin, { name: 'automation', scope: 'admin' })).json()) as { token: string };
    const auto = new TestClient(app);
    auto.bearer = adm.token;
    expect((await mint(auto, { name: 'child', scope: 'read' })).status).toBe(201);
    expect((await mint(admin, { name: 'bad', scope: 'root' })).status).toBe(400);
    // Last use is shown.
    const { tokens } = (await (await admin.req('GET', '/api/tokens')).json()) as { tokens: { name: string; lastUsed: string | null }[] };
    expect(tokens.find((t) => t.name === 'dashboard')!.lastUsed).not.toBeNull();
    expect(tokens.find((t) => t.name === 'child')!.lastUsed).toBeNull();
  });

  it('a token stops working when it expires', async () => {
    const t = (await (await mint(admin, { name: 'week', scope: 'read', days: 7 })).json()) as { token: string; expires: string };
    expect(Date.parse(t.expires) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect((await mint(admin, { name: 'x', days: 0 })).status).toBe(400);
    const bot = new TestClient(app);
    bot.bearer = t.token;
    expect((await bot.req('GET', '/api/people')).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 8 * 86_400_000);
    const late = await bot.req('GET', '/api/people');
    expect(late.status).toBe(401);
    expect(((await late.json()) as { message: string }).message).toMatch(/expired/);
    vi.useRealTimers();
    admin = new TestClient(app);
    await admin.signIn(PASSWORD);
  });

  it('changing the password ends every session; the old password stops working', async () => {
    const other = new TestClient(app);
    expect((await other.signIn(PASSWORD)).status).toBe(200);
    const c = new TestClient(app);
    await c.signIn(PASSWORD);
    const wrong = await c.req('POST', '/api/password', { json: { current: 'not the password', password: 'a brand new password' } });
    expect(wrong.status).toBe(401);
    const ok = await c.req('POST', '/api/password', { json: { current: PASSWORD, password: 'a brand new password' } });
    expect(ok.status).toBe(200);
    expect((await other.req('GET', '/api/people')).status).toBe(401);
    expect((await new TestClient(app).signIn(PASSWORD)).status).toBe(401);
    expect((await new TestClient(app).signIn('a brand new password')).status).toBe(200);
    await d.auth.changePassword('a brand new password', PASSWORD);
    admin = new TestClient(app);
    await admin.signIn(PASSWORD);
  });

  it('sign out everywhere ends every browser session', async () => {
    const a = new TestClient(app);
    const b = new TestClient(app);
    await a.signIn(PASSWORD);
    await b.signIn(PASSWORD);
    const r = await a.req('POST', '/api/sessions/end-all');
    expect(r.status).toBe(200);
    expect((await r.json()) as { ended: number }).toMatchObject({ ended: expect.any(Number) });
    expect((await a.req('GET', '/api/people')).status).toBe(401);
    expect((await b.req('GET', '/api/people')).status).toBe(401);
  });
});
