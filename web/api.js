// The JSON API client: CSRF header, readable errors ("Cannot reach the appliance"), and sign-in on a lost session.
// createClient() holds the page's session state (the CSRF token, the server's settings) in its closure.

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The appliance answered with an error (${status}).`);
    this.status = status;
    this.code = body?.error;
    this.body = body;
  }
}

const UNREACHABLE = 'Cannot reach the appliance. Check that it is on and on the network, then try again.';
const RETURN_KEY = 'facegate.returnTo';

/** Remembers where the user was, so sign-in brings them back there. */
export function rememberPlace(hash) {
  if (hash && !/^#\/(login|setup)/.test(hash)) sessionStorage.setItem(RETURN_KEY, hash);
}
export function takePlace() {
  const h = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  return h && !/^#\/(login|setup)/.test(h) ? h : '#/people';
}

/**
 * @typedef {{ quality: { minSize: number, minBlur: number }, threshold: number, nameRule: { forbidden: string, flags: string, maxLength: number, required?: string } | null }} Settings
 * @typedef {{ api: (method: string, path: string, body?: unknown) => Promise<any>, settings: Settings, setCsrf: (v: string | null) => void, nameProblem: (name: string) => string | null }} Client
 */

/** One client per page load: the CSRF token and what the server said about this session live here. @returns {Client} */
export function createClient() {
  let csrf = null;
  /** @type {Settings} */
  const settings = { quality: { minSize: 32, minBlur: 20 }, threshold: 0.5, nameRule: null };

  async function api(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = {};
    /** @type {RequestInit} */
    const init = { method, headers, credentials: 'same-origin' };
    if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch {
      throw new ApiError(0, { error: 'unreachable', message: UNREACHABLE });
    }
    let data = null;
    if (res.headers.get('content-type')?.includes('json')) data = await res.json().catch(() => null);
    if (res.status === 401 && (data?.error === 'unauthorized' || data?.error === 'setup_required') && !/^\/api\/(login|setup)/.test(path)) {
      csrf = null;
      rememberPlace(location.hash);
      location.hash = '#/login';
    }
    if (!res.ok) {
      if (res.status >= 502 && !data) throw new ApiError(res.status, { error: 'unreachable', message: UNREACHABLE });
      throw new ApiError(res.status, data);
    }
    return data;
  }

  /** A name checked by the server's rule before it is sent (the server checks again). */
  function nameProblem(name) {
    const rule = settings.nameRule;
    if (!rule) return null;
    if (new RegExp(rule.forbidden, rule.flags).test(name)) return 'A name cannot hold invisible or direction-changing characters.';
    const n = [...name.normalize('NFC').trim()].length;
    if (n < 1 || n > rule.maxLength) return `A name has 1 to ${rule.maxLength} characters.`;
    if (rule.required && !new RegExp(rule.required, 'u').test(name)) return 'A name needs at least one letter or digit that can be seen.';
    return null;
  }

  return { api, settings, setCsrf: (v) => (csrf = v), nameProblem };
}
