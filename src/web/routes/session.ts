/** Claiming a new appliance (set-up with the claim code), sign-in and sign-out, password change, sign out everywhere. */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import type { RequestFacts } from '../origin.js';
import { fail, jsonBody } from '../http.js';
import { RateLimiter, SESSION_COOKIE, sameOrigin } from '../security.js';
import { MIN_PASSWORD_LENGTH } from '../../store/auth.js';
import { nameRule } from '../../store/names.js';

export function sessionRoutes(deps: AppDeps, facts: (c: Context) => RequestFacts): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limiter = new RateLimiter(5, 60_000);
  const { auth } = deps;

  const startSession = async (c: Context) => {
    const { id, session } = await auth.createSession();
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: facts(c).https,
      path: '/',
      maxAge: Math.round(deps.config.web.sessionHours * 3600),
    });
    return c.json({ ok: true, csrfToken: session.csrf, expires: session.expires });
  };

  // Anything sent as a password is checked as text, so a wrong type gets the password rule's message.
  const plain = (v: unknown) => (v == null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  const text = (v: unknown) => (typeof v === 'string' && v.length <= 1024 ? v : '');

  app.get('/session-status', async (c) => {
    const s = auth.session(getCookie(c, SESSION_COOKIE));
    return c.json({
      setupRequired: !auth.hasPassword(),
      authenticated: s !== null,
      csrfToken: s?.csrf ?? null,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      // The page says how large a photo may be, in its own words.
      maxUploadBytes: deps.config.web.maxUploadBytes,
      passwordFixed: auth.passwordIsFixed(),
      nameRule,
      // For plain words on the page: the quality gate and the match threshold.
      quality: { minSize: deps.config.pipeline.quality.minSize, minBlur: deps.config.pipeline.quality.minBlur },
      threshold: (await deps.enrol.operatingPoint()).threshold,
    });
  });

  app.post('/setup', async (c) => {
    if (!sameOrigin(c)) fail(403, 'bad_origin', 'The request came from another site.');
    if (auth.hasPassword()) fail(409, 'password_set', 'The admin password is already set; sign in instead.');
    limiter.hit(facts(c).ip);
    const body = await jsonBody(c);
    if (typeof body.claimCode !== 'string' || !body.claimCode.trim())
      fail(
        403,
        'claim_code_required',
        'Enter the claim code the appliance printed when it started (journalctl -u facegate), or that `sudo facegate status` shows.',
      );
    // One claim wins: the store refuses a second set-up while the first is still hashing its password.
    await auth.setInitialPassword(text(body.password) || plain(body.password), body.claimCode as string);
    deps.log.info({ ip: facts(c).ip }, 'appliance claimed: admin password set');
    return startSession(c);
  });

  app.post('/login', async (c) => {
    if (!sameOrigin(c)) fail(403, 'bad_origin', 'The request came from another site.');
    if (!auth.hasPassword()) fail(409, 'setup_required', 'Set the admin password first.');
    limiter.hit(facts(c).ip);
    const body = await jsonBody(c);
    if (!(await auth.checkPassword(text(body.password)))) {
      deps.log.warn({ ip: facts(c).ip }, 'failed sign-in');
      fail(401, 'bad_password', 'That password is not right.');
    }
    return startSession(c);
  });

  app.post('/logout', async (c) => {
    await auth.endSession(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true });
  });

  app.post('/password', async (c) => {
    if (c.get('authKind') !== 'session') fail(403, 'session_required', 'Change the password from the admin page, signed in.');
    limiter.hit(facts(c).ip);
    const body = await jsonBody(c);
    await auth.changePassword(text(body.current), text(body.password) || plain(body.password));
    deps.log.info('admin password changed; every session ended');
    return startSession(c);
  });

  app.post('/sessions/end-all', async (c) => {
    if (c.get('scope') !== 'admin') fail(403, 'admin_required', 'Only an admin can sign everyone out.');
    const ended = await auth.endAllSessions();
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    deps.log.info({ ended }, 'signed out everywhere');
    return c.json({ ok: true, ended });
  });

  return app;
}
