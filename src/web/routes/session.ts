/** First-run setup, sign-in and sign-out. */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody } from '../http.js';
import { RateLimiter, SESSION_COOKIE, sameOrigin } from '../security.js';
import { MIN_PASSWORD_LENGTH } from '../../store/auth.js';

export function sessionRoutes(deps: AppDeps, clientIp: (c: Context) => string): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limiter = new RateLimiter(5, 60_000);
  const { auth } = deps;

  const startSession = async (c: Context) => {
    const { id, session } = await auth.createSession();
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: new URL(c.req.url).protocol === 'https:',
      path: '/',
      maxAge: Math.round(deps.config.web.sessionHours * 3600),
    });
    return c.json({ ok: true, csrfToken: session.csrf, expires: session.expires });
  };

  app.get('/session-status', (c) => {
    const s = auth.session(getCookie(c, SESSION_COOKIE));
    return c.json({ setupRequired: !auth.hasPassword(), authenticated: s !== null, csrfToken: s?.csrf ?? null, minPasswordLength: MIN_PASSWORD_LENGTH });
  });

  app.post('/setup', async (c) => {
    if (!sameOrigin(c)) fail(403, 'bad_origin', 'The request came from another site.');
    if (auth.hasPassword()) fail(409, 'password_set', 'The admin password is already set; sign in instead.');
    limiter.hit(clientIp(c));
    const body = await jsonBody(c);
    if (typeof body.password !== 'string' || body.password.length < MIN_PASSWORD_LENGTH)
      fail(422, 'weak_password', `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
    if ((body.password as string).length > 1024) fail(422, 'weak_password', 'The password is too long.');
    await auth.setInitialPassword(body.password as string);
    deps.log.info('admin password set');
    return startSession(c);
  });

  app.post('/login', async (c) => {
    if (!sameOrigin(c)) fail(403, 'bad_origin', 'The request came from another site.');
    if (!auth.hasPassword()) fail(409, 'setup_required', 'Set the admin password first.');
    limiter.hit(clientIp(c));
    const body = await jsonBody(c);
    const pw = typeof body.password === 'string' && body.password.length <= 1024 ? body.password : '';
    if (!(await auth.checkPassword(pw))) {
      deps.log.warn({ ip: clientIp(c) }, 'failed sign-in');
      fail(401, 'bad_password', 'That password is not right.');
    }
    return startSession(c);
  });

  app.post('/logout', async (c) => {
    await auth.endSession(getCookie(c, SESSION_COOKIE));
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true });
  });

  return app;
}
