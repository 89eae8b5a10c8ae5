/**
 * Camera credentials kept out of the config file. A URL saved from the page holds a placeholder where its user
 * info was (`rtsp://{secret:door}@10.0.0.5/stream`); the user info itself lives in the data directory's secrets
 * file (0600) under that key, and is put back only when the camera is opened.
 */
import { MASK } from './mask.js';

/** `scheme://{secret:key}@…`: the key is a camera name. */
const REF_RE = /^([a-z][a-z0-9+.-]*:\/\/)\{secret:([a-z0-9_-]{1,32})\}@/i;
/** `scheme://userinfo@…` (userinfo without `/`, `@` or spaces). */
const USERINFO_RE = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i;

/** The secret key a URL refers to, or null. */
export const secretRef = (url: string): string | null => REF_RE.exec(url)?.[2] ?? null;

/** Splits `rtsp://user:pass@host/x` into `rtsp://host/x` and `user:pass`; a URL without user info has none. */
export function splitUserinfo(url: string): { url: string; userinfo: string | null } {
  if (secretRef(url)) return { url, userinfo: null };
  const m = USERINFO_RE.exec(url);
  if (!m) return { url, userinfo: null };
  return { url: m[1]! + url.slice(m[0].length), userinfo: m[2]! };
}

/** `rtsp://host/x` with `user:pass` → `rtsp://user:pass@host/x`. */
export function withUserinfo(url: string, userinfo: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(url);
  return m ? `${m[1]!}${userinfo}@${url.slice(m[0].length)}` : url;
}

/** `rtsp://host/x` with key `door` → `rtsp://{secret:door}@host/x`. */
export const withRef = (url: string, key: string): string => withUserinfo(url, `{secret:${key}}`);

/** The URL with its placeholder replaced by the stored user info (dropped when the store has none). */
export function resolveRef(url: string, secrets: Readonly<Record<string, string>>): string {
  const m = REF_RE.exec(url);
  if (!m) return url;
  const userinfo = secrets[m[2]!];
  return m[1]! + (userinfo ? `${userinfo}@` : '') + url.slice(m[0].length);
}

/** User info for showing: the user name and a mask, never the password. */
export const maskUserinfo = (userinfo: string): string => (userinfo.includes(':') ? `${userinfo.slice(0, userinfo.indexOf(':'))}:${MASK}` : MASK);

/** True when the user info's password part is the mask shown by the page (the user kept the stored password). */
export const isMaskedUserinfo = (userinfo: string): boolean => userinfo === MASK || userinfo.endsWith(`:${MASK}`);
