/**
 * The payload envelope (pure apart from node:crypto): with a site key, AES-256-GCM with a random 96-bit IV and the
 * topic as additional data, so a payload moved to another topic, altered, or sealed with another key is refused.
 * Without a key (only with sync.allowPlaintext) the JSON goes as it is.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FacegateError } from '../util/errors.js';

const MAGIC = Buffer.from('FGS1');
const IV = 12;
const TAG = 16;

/** Parse FACEGATE_SYNC_KEY: 32 bytes as 64 hex digits or base64. */
export function parseSyncKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(t) ? Buffer.from(t, 'base64') : Buffer.alloc(0);
  if (key.length !== 32)
    throw new FacegateError('sync_key', 'FACEGATE_SYNC_KEY must be 32 bytes, written as 64 hex digits or base64 (e.g. `openssl rand -base64 32`).');
  return key;
}

export function seal(key: Buffer | null, topic: string, plain: Buffer): Buffer {
  if (!key) return plain;
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(topic));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([MAGIC, iv, c.getAuthTag(), body]);
}

/** The plain payload, or null when it is not sealed with this key for this topic (or is clear text while a key is set). */
export function open(key: Buffer | null, topic: string, payload: Buffer): Buffer | null {
  if (!key) return payload.subarray(0, MAGIC.length).equals(MAGIC) ? null : payload;
  if (payload.length < MAGIC.length + IV + TAG || !payload.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const iv = payload.subarray(MAGIC.length, MAGIC.length + IV);
  const tag = payload.subarray(MAGIC.length + IV, MAGIC.length + IV + TAG);
  try {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAAD(Buffer.from(topic));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(payload.subarray(MAGIC.length + IV + TAG)), d.final()]);
  } catch {
    return null;
  }
}
