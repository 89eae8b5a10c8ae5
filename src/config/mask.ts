/** Secret-free copies of a config, for `facegate config print` and logs. */
import type { Config } from './schema.js';

export const MASK = '********';

/** Hides the password part of a URL's user info: `mqtt://u:p@h` → `mqtt://u:********@h`. */
export function maskUrl(url: string): string {
  // A `{secret:key}` placeholder (src/config/secrets.ts) holds no secret.
  if (/^[a-z][a-z0-9+.-]*:\/\/\{secret:[^}]*\}@/i.test(url)) return url;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*):[^@/\s]*@/i, `$1:${MASK}@`);
}

/** The config with the MQTT password, admin password hash and URL passwords replaced by a mask. */
export function maskConfig(config: Config): Config {
  const c = structuredClone(config);
  if (c.mqtt.password !== undefined) c.mqtt.password = MASK;
  if (c.mqtt.url !== undefined) c.mqtt.url = maskUrl(c.mqtt.url);
  if (c.web.passwordHash !== undefined) c.web.passwordHash = MASK;
  if (c.sync.key !== undefined) c.sync.key = MASK;
  for (const cam of c.cameras) cam.url = maskUrl(cam.url);
  return c;
}
