/**
 * Cameras: their status, settings and config source; adding, testing, changing and removing them; the newest
 * frame (annotated JPEG or plain with faces), and a capture to enrol from.
 */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody } from '../http.js';
import { annotatedJpeg, encodeJpeg } from '../images.js';
import { overlayFaces } from '../overlay.js';
import { candidates } from '../../engine/choose-face.js';
import { jpeg } from '../files.js';
import { candidateJson, type Captures } from '../captures.js';
import { CAMERA_NAME_RE } from '../../util/ids.js';
import type { CameraAdminPort, CameraTestResult } from '../ports.js';

export function cameraRoutes(deps: AppDeps, captures: Captures): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { cameras, engine, config } = deps;

  const mustCamera = async (name: string | undefined) => {
    if (!name || !CAMERA_NAME_RE.test(name)) fail(400, 'bad_id', 'That is not a valid camera name.');
    const st = (await cameras.list()).find((s) => s.camera === name);
    if (!st) fail(404, 'not_found', `There is no camera "${name}".`);
    return name!;
  };

  /** Statuses of the running cameras; with camera management also every configured camera and the config source. */
  app.get('/cameras', async (c) => {
    const admin = deps.cameraAdmin;
    const list = { cameras: await cameras.list() };
    if (!admin) return c.json(list);
    return c.json({ ...list, settings: await admin.settings(), config: await admin.source() });
  });

  const mustAdmin = (): CameraAdminPort => {
    if (!deps.cameraAdmin) fail(409, 'config_not_writable', 'Cameras cannot be changed on this appliance; edit its config file instead.');
    return deps.cameraAdmin!;
  };
  const validName = (name: string | undefined): string => {
    if (!name || !CAMERA_NAME_RE.test(name)) fail(400, 'bad_id', 'That is not a valid camera name.');
    return name!;
  };
  const testJson = async (r: CameraTestResult) =>
    r.ok
      ? {
          ok: true,
          width: r.image.width,
          height: r.image.height,
          fps: r.fps,
          source: r.source,
          image: `data:image/jpeg;base64,${(await encodeJpeg(r.image, 85)).toString('base64')}`,
        }
      : r;

  /** Opens a camera described in the body without saving anything: one frame and its size and fps, or ffmpeg's error. */
  app.post('/cameras/test', async (c) => c.json(await testJson(await mustAdmin().test(await jsonBody(c), null))));
  /** The same for a change to camera :name (a masked password in the URL means the stored one). */
  app.post('/cameras/:name/test', async (c) => {
    const name = validName(c.req.param('name'));
    const admin = mustAdmin();
    const now = (await admin.settings()).find((s) => s.name === name);
    if (!now) fail(404, 'not_found', `There is no camera "${name}".`);
    return c.json(await testJson(await admin.test({ ...now, ...(await jsonBody(c)) }, name)));
  });

  /** Adds a camera to the config file and starts it. */
  app.post('/cameras', async (c) => c.json({ camera: await mustAdmin().save(await jsonBody(c), null) }, 201));

  /** Changes camera :name (fields left out keep their value; `enabled: false` disables it); applies at once. */
  app.patch('/cameras/:name', async (c) => {
    const name = validName(c.req.param('name'));
    const admin = mustAdmin();
    const now = (await admin.settings()).find((s) => s.name === name);
    if (!now) fail(404, 'not_found', `There is no camera "${name}".`);
    return c.json({ camera: await admin.save({ ...now, ...(await jsonBody(c)) }, name) });
  });

  /** Removes camera :name from the config file and stops it; the other cameras go on. */
  app.delete('/cameras/:name', async (c) => {
    await mustAdmin().remove(validName(c.req.param('name')));
    return c.json({ ok: true });
  });

  /** A camera's newest frame and the faces the pipeline found on it; 404 before the first frame. */
  const frameWithFaces = async (param: string | undefined) => {
    const name = await mustCamera(param);
    const frame = await cameras.latestFrame(name);
    if (!frame) fail(404, 'no_frame', `Camera "${name}" has no frame yet.`);
    const latest = await cameras.latestFaces(name);
    return { name, frame: frame!, faces: Array.isArray(latest) ? latest : (latest?.boxes ?? []) };
  };

  app.get('/cameras/:name/frame.jpg', async (c) => {
    const { frame, faces } = await frameWithFaces(c.req.param('name'));
    return jpeg(await annotatedJpeg(frame, faces), 'no-store');
  });

  /** The newest frame (plain JPEG as a data URL) and the faces found on that very frame, for the page to draw. */
  app.get('/cameras/:name/live', async (c) => {
    const { name, frame, faces } = await frameWithFaces(c.req.param('name'));
    const image = `data:image/jpeg;base64,${(await encodeJpeg(frame, 80)).toString('base64')}`;
    return c.json({ camera: name, width: frame.width, height: frame.height, image, faces: overlayFaces(faces) });
  });

  /** Freezes the newest frame: its faces, numbered, each with who it most resembles (to pre-select). */
  app.post('/cameras/:name/capture', async (c) => {
    const name = await mustCamera(c.req.param('name'));
    const frame = await cameras.latestFrame(name);
    if (!frame) fail(404, 'no_frame', `Camera "${name}" has no frame yet.`);
    const [r] = await engine.analyze([frame!], config.pipeline.quality);
    const faces = candidates(r!);
    const captureId = captures.put(name, faces, frame!);
    const { threshold } = await deps.enrol.operatingPoint();
    const json = await candidateJson(frame!, faces);
    const best = await Promise.all(faces.map(async (cand) => (cand.ok ? (await deps.enrol.resemblances(cand.embedding, { top: 1 }))[0] : undefined)));
    const withMatch = json.map((f, i) => {
      const b = best[i];
      return { ...f, match: b && b.similarity >= threshold ? b : null };
    });
    const image = `data:image/jpeg;base64,${(await encodeJpeg(frame!, 85)).toString('base64')}`;
    return c.json({ captureId, camera: name, width: frame!.width, height: frame!.height, image, faces: withMatch });
  });

  return app;
}
