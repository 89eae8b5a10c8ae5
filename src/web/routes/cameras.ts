/** Cameras: their status, the newest frame (annotated JPEG or plain with faces), and a capture to enrol from. */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail } from '../http.js';
import { annotatedJpeg, encodeJpeg } from '../images.js';
import { overlayFaces } from '../overlay.js';
import { resemblances } from '../../enrol/likeness.js';
import { candidates } from '../../engine/choose-face.js';
import { jpeg } from '../files.js';
import { candidateJson, type Captures } from '../captures.js';
import { CAMERA_NAME_RE } from '../../util/ids.js';

export function cameraRoutes(deps: AppDeps, captures: Captures): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { cameras, engine, facebank, config } = deps;

  const mustCamera = async (name: string | undefined) => {
    if (!name || !CAMERA_NAME_RE.test(name)) fail(400, 'bad_id', 'That is not a valid camera name.');
    const st = (await cameras.list()).find((s) => s.camera === name);
    if (!st) fail(404, 'not_found', `There is no camera "${name}".`);
    return name!;
  };

  app.get('/cameras', async (c) => c.json({ cameras: await cameras.list() }));

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
    const [people, samples] = await Promise.all([facebank.people(), facebank.samples()]);
    const { threshold } = await deps.enrol.operatingPoint();
    const json = await candidateJson(frame!, faces);
    const withMatch = json.map((f, i) => {
      const cand = faces[i]!;
      const best = cand.ok ? resemblances(cand.embedding, engine.embedderId, samples, people)[0] : undefined;
      return { ...f, match: best && best.similarity >= threshold ? best : null };
    });
    const image = `data:image/jpeg;base64,${(await encodeJpeg(frame!, 85)).toString('base64')}`;
    return c.json({ captureId, camera: name, width: frame!.width, height: frame!.height, image, faces: withMatch });
  });

  return app;
}
