import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorReasons, isErrorCode, statusOf } from '../../src/errors/codes.js';
import { errorResponse } from '../../src/web/http.js';
import { FacegateError } from '../../src/util/errors.js';
import { Hono } from 'hono';

describe('the error-code table', () => {
  it('spells every code in lower_snake_case and gives it an error status', () => {
    for (const [code, e] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect(e.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('knows no code in the old casings', () => {
    for (const old of ['not-found', 'BAD_OUTPUT', 'facebank-read-only', 'data-dir', 'MQTT_NO_URL']) expect(isErrorCode(old)).toBe(false);
    expect(isErrorCode('not_found')).toBe(true);
  });

  it('answers a FacegateError with its code and the status of the table (as before the table: 404, 409, 413, 400)', async () => {
    const app = new Hono();
    const thrown: Record<string, FacegateError> = {
      '/a': new FacegateError('not_found', 'No person with id x.'),
      '/b': new FacegateError('conflict', 'There is already a person called "A".'),
      '/c': new FacegateError('too_large', 'The file is too large.'),
      '/d': new FacegateError('facebank_read_only', 'The facebank is read-only.'),
      '/e': new FacegateError('bad_password', 'Wrong password.'),
    };
    app.onError((err, c) => errorResponse(c, err) ?? c.text('unexpected', 500));
    app.get('*', (c) => {
      throw thrown[c.req.path]!;
    });
    const answers = await Promise.all(
      Object.keys(thrown).map(async (p) => {
        const r = await app.request(p);
        return [r.status, ((await r.json()) as { error: string }).error];
      }),
    );
    expect(answers).toEqual([
      [404, 'not_found'],
      [409, 'conflict'],
      [413, 'too_large'],
      [400, 'facebank_read_only'],
      [401, 'bad_password'],
    ]);
    expect(statusOf('busy')).toBe(429);
  });

  it('gives words only to the reasons the page shows', () => {
    expect(Object.keys(errorReasons()).sort()).toEqual(
      [
        'bad_face_index',
        'bad_pose',
        'duplicate',
        'looks_like_other',
        'multiple_faces',
        'no_face',
        'not_image',
        'too_blurry',
        'too_large',
        'too_many_pixels',
        'too_small',
      ].sort(),
    );
  });
});
