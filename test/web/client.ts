/** A tiny cookie-keeping client over app.request() (no socket) for the web tests. */
export const testClientIp = (req: Request) => req.headers.get('x-test-ip') ?? 'unknown';
import type { Hono } from 'hono';
import { checkAnswer } from './contract.js';

export class TestClient {
  cookie: string | null = null;
  csrf: string | null = null;
  bearer: string | null = null;
  /** Sent as x-test-ip: apps under test read the client address from it (sign-in rate limit). */
  ip = `10.1.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  constructor(
    readonly app: Hono<any>,
    readonly base = 'http://facegate.local',
  ) {}

  async req(method: string, path: string, opts: { json?: unknown; body?: BodyInit; headers?: Record<string, string>; csrf?: boolean } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'x-test-ip': this.ip, ...opts.headers };
    if (this.cookie) headers.cookie = this.cookie;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (this.csrf && opts.csrf !== false && method !== 'GET') headers['x-csrf-token'] ??= this.csrf;
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    const res = await this.app.request(this.base + path, { method, headers, body });
    await checkAnswer(method, this.base + path, res);
    const set = res.headers.get('set-cookie');
    if (set) {
      const m = /^(fg_session=[^;]*)/.exec(set);
      if (m) this.cookie = m[1]!.endsWith('=') ? null : m[1]!;
    }
    return res;
  }

  /** Signs in (or, with path /api/setup, claims the appliance with `claimCode`). */
  async signIn(password: string, path = '/api/login', claimCode?: string): Promise<Response> {
    const res = await this.req('POST', path, { json: { password, claimCode } });
    if (res.ok) this.csrf = ((await res.clone().json()) as { csrfToken: string }).csrfToken;
    return res;
  }
}
