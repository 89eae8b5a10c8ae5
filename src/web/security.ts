/** Security headers, the Host check, sign-in rate limiting, and the auth + CSRF + token-scope gate for /api. */
import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AuthStore, TokenScope } from '../store/auth.js';
import { HttpError } from './http.js';

export const SESSION_COOKIE = 'fg_session';

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header(
    'Content-Security-Policy',
    "default-src 'self'; img-src 'self' blob: data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  );
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
  c.header('Cross-Origin-Opener-Policy', 'same-origin');
  if (c.req.path.startsWith('/api/')) c.header('Cache-Control', 'no-store');
};

/** Fixed-window counter of sign-in attempts per client address. */
export class RateLimiter {
  private readonly hits = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one attempt; throws 429 once the window's budget is spent. */
  hit(key: string, now = Date.now()): void {
    let h = this.hits.get(key);
    if (!h || now - h.start >= this.windowMs) {
      h = { start: now, count: 0 };
      this.hits.set(key, h);
      if (this.hits.size > 10_000) for (const [k, v] of this.hits) if (now - v.start >= this.windowMs) this.hits.delete(k);
    }
    h.count++;
    if (h.count > this.max) {
      const retry = Math.max(1, Math.ceil((h.start + this.windowMs - now) / 1000));
      throw new HttpError(429, 'rate_limited', `Too many sign-in attempts. Try again in ${retry} seconds.`, { 'Retry-After': String(retry) });
    }
  }
}

const PUBLIC = new Set(['/api/login', '/api/session-status', '/api/setup']);
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export type AuthKind = 'session' | 'token';

/** Refuses requests whose Host is not one of this appliance's names (DNS rebinding), before anything else runs. */
export function hostGate(allowed: (host: string | undefined) => boolean): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (allowed(host)) return next();
    const message = `This appliance does not answer to the name in the address bar; open it by its IP address, or add the name to web.allowedHosts in its config.`;
    return c.req.path.startsWith('/api/') ? c.json({ error: 'bad_host', message }, 421) : c.text(message, 421);
  };
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** True when Origin (if sent) names this very host. */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin) return true;
  if (origin === 'null') return false;
  try {
    const o = new URL(origin);
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    return o.host === host;
  } catch {
    return false;
  }
}

export function authGate(auth: AuthStore): MiddlewareHandler<{ Variables: { authKind: AuthKind; sessionId: string; scope: TokenScope } }> {
  return async (c, next) => {
    const p = c.req.path;
    if (PUBLIC.has(p)) return next();
    if (!auth.hasPassword()) throw new HttpError(401, 'setup_required', 'Set the admin password first.');
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      const token = m ? auth.checkToken(m[1]!) : null;
      if (!token) throw new HttpError(401, 'unauthorized', 'The API token is not valid (or has expired).');
      if (token.scope === 'read' && !SAFE.has(c.req.method)) throw new HttpError(403, 'read_only', 'This API token may only read; ask for an admin token.');
      c.set('authKind', 'token');
      c.set('scope', token.scope);
      return next();
    }
    const sid = getCookie(c, SESSION_COOKIE);
    const session = auth.session(sid);
    if (!session) throw new HttpError(401, 'unauthorized', 'Sign in first.');
    if (!SAFE.has(c.req.method)) {
      if (!sameOrigin(c)) throw new HttpError(403, 'bad_origin', 'The request came from another site.');
      const sent = c.req.header('x-csrf-token');
      if (!sent || !sameSecret(sent, session.csrf)) throw new HttpError(403, 'csrf', 'The X-CSRF-Token header is missing or wrong; reload the page.');
    }
    c.set('authKind', 'session');
    c.set('scope', 'admin');
    c.set('sessionId', sid!);
    return next();
  };
}
