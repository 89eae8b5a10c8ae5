import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/util/log.js';

function capture() {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger('debug', sink), text: () => chunks.join('') };
}

// Random values, so a pass cannot come from a coincidence in fixed strings.
const rnd = () => Math.random().toString(36).slice(2, 12);
const mqttPassword = `mqttpw-${rnd()}`;
const adminHash = `scrypt$${rnd()}${rnd()}`;
const camPassword = `campw${rnd()}`;
const token = `tok-${rnd()}`;

describe('logger redaction', () => {
  it('never writes config secrets, at any depth', () => {
    const config = loadConfig(undefined, {
      FACEGATE_MQTT_PASSWORD: mqttPassword,
      FACEGATE_ADMIN_PASSWORD_HASH: adminHash,
      FACEGATE_MQTT_URL: `mqtt://bob:${mqttPassword}@broker:1883`,
    });
    config.cameras.push({ name: 'door', url: `rtsp://admin:${camPassword}@10.0.0.2/stream`, loop: false, inputOptions: [], enabled: true });
    const { log, text } = capture();
    log.info({ config }, 'effective config');
    log.info(config, 'config merged at the top');
    log.warn({ a: { b: { c: { d: { config } } } } }, 'deeply nested');
    log.child({ session: token }).info({ headers: { Cookie: `sid=${token}`, authorization: `Bearer ${token}` }, access_token: token }, 'request');
    log.info('connecting to %s with %j', `mqtt://bob:${mqttPassword}@broker`, { password: mqttPassword });
    log.error(new Error(`connect mqtt://bob:${mqttPassword}@broker failed`), 'broker');
    log.info({ broker: new URL(`mqtts://bob:${mqttPassword}@broker:8883/?token=${token}`), at: new Date(0) }, 'objects with toJSON');
    const out = text();
    expect(out.split('\n').filter(Boolean).length).toBe(7);
    for (const secret of [mqttPassword, adminHash, camPassword, token]) expect(out).not.toContain(secret);
    // Non-secret fields are still there, so the logger is not simply dropping everything.
    expect(out).toContain('"prefix":"facegate"');
    expect(out).toContain('rtsp://admin:[redacted]@10.0.0.2/stream');
    expect(out).toContain('"passwordHash":"[redacted]"');
    expect(out).toContain('"at":"1970-01-01T00:00:00.000Z"');
    expect(out).toContain('mqtts://bob:[redacted]@broker:8883');
  });

  it('never writes an embedding', () => {
    const embedding = Array.from({ length: 192 }, () => Math.random() - 0.5);
    const typed = Float32Array.from(embedding);
    const { log, text } = capture();
    log.info({ sample: { id: 's1', embedding } }, 'sample');
    log.info({ event: { track: 'door-1' }, best: { embedding: typed } }, 'event');
    log.info({ vec: embedding.slice(0, 128) }, 'unnamed float vector');
    log.info({ deep: [{ x: [{ embedding }] }] }, 'in arrays');
    const out = text();
    expect(out.split('\n').filter(Boolean).length).toBe(4);
    for (const v of [embedding[0]!, embedding[100]!, typed[5]!]) {
      expect(out).not.toContain(String(v).slice(0, 10));
    }
    expect(out).toContain('"id":"s1"');
    expect(out).toContain('"track":"door-1"');
  });
});
