/** `facegate detect <image...>`: faces with boxes, scores, landmarks and quality figures. */
import { stat } from 'node:fs/promises';
import type { Command } from './command.js';
import { configFromArgs, engineFromConfig, engineOptions, engineOptionsUsage } from '../engine/setup.js';
import { decodeImage } from '../ingest/still.js';
import { FacegateError, isFacegateError } from '../util/errors.js';
import type { FaceQuality } from '../vision/types.js';

const usage = `Usage: facegate detect <image...> [--json] [--config <file>]

Detects faces in still images (JPEG, PNG, WebP, ...). Prints each face's box [x1,y1,x2,y2], score,
five landmarks and quality figures; "rejected" names the quality rule (pipeline.quality) a face fails.
With --json the last line is {"images":[{"path","width","height","faces":[...]}]}; an unreadable image
gets {"path","error"} and the exit code is 1.

${engineOptionsUsage}`;

const r1 = (x: number) => Math.round(x * 10) / 10;
const roundQ = (q: FaceQuality) => ({ size: r1(q.size), score: Math.round(q.score * 1e4) / 1e4, blur: r1(q.blur), yaw: r1(q.yaw), pitch: r1(q.pitch), roll: r1(q.roll) });

export const detectCommand: Command = {
  name: 'detect',
  summary: 'Detect faces in images: boxes, landmarks, quality',
  usage,
  options: { ...engineOptions },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (!positionals.length) {
      io.stderr(usage);
      return 2;
    }
    const config = configFromArgs(values);
    const engine = await engineFromConfig(config);
    const images: unknown[] = [];
    let failed = 0;
    try {
      for (const p of positionals) {
        try {
          if ((await stat(p).catch(() => null))?.isDirectory()) throw new FacegateError('is_directory', `${p} is a directory; name the images in it (e.g. ${p}/*.jpg).`);
          const img = await decodeImage(p, { maxPixels: config.web.maxPixels });
          const [r] = await engine.analyze([img]);
          const faces = [...r.faces.map((f) => ({ f, reason: null as string | null })), ...r.rejected.map((f) => ({ f, reason: f.reason as string }))]
            .sort((a, b) => b.f.score - a.f.score)
            .map(({ f, reason }) => ({
              box: f.box.map(r1),
              score: Math.round(f.score * 1e4) / 1e4,
              landmarks: f.landmarks.map((q) => [r1(q[0]), r1(q[1])]),
              quality: roundQ(f.quality),
              ...(reason ? { rejected: reason } : {}),
            }));
          images.push({ path: p, width: img.width, height: img.height, faces });
          if (!values.json) {
            io.stdout(`${p}: ${img.width}x${img.height}, ${faces.length} face${faces.length === 1 ? '' : 's'}`);
            for (const f of faces) io.stdout(`  box [${f.box.join(', ')}] score ${f.score.toFixed(3)} size ${f.quality.size} blur ${f.quality.blur} yaw ${f.quality.yaw} pitch ${f.quality.pitch}${f.rejected ? ` (rejected: ${f.rejected})` : ''}`);
          }
        } catch (e) {
          if (!isFacegateError(e)) throw e;
          failed++;
          images.push({ path: p, error: e.message, code: e.code });
          if (!values.json) io.stderr(`${p}: ${e.message}`);
        }
      }
    } finally {
      await engine.close();
    }
    if (values.json) io.stdout(JSON.stringify({ images }));
    return failed ? 1 : 0;
  },
};
