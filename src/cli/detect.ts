/** `facegate detect <image|dir...>`: faces with boxes, scores, landmarks and quality figures. */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from './command.js';
import { engineFromConfig } from '../engine/setup.js';
import { configFromArgs, engineOptions, engineOptionsUsage } from './engine-options.js';
import { analyzePhoto, photoSide, toPhoto } from '../engine/photo.js';
import { OPEN_GATE } from '../engine/largest.js';
import { gateReason } from '../engine/index.js';
import { decodePhoto } from '../ingest/still.js';
import { FacegateError, isFacegateError } from '../util/errors.js';
import type { FaceQuality } from '../vision/types.js';

const usage = `Usage: facegate detect <image|folder...> [--min-score S] [--json] [--config <file>]

Detects faces in still images (JPEG, PNG, WebP, ...); a folder is walked for image files (sorted, with its
sub-folders). Prints each face's box [x1,y1,x2,y2], score, five landmarks and quality figures; "rejected"
names the quality rule (pipeline.quality) a face fails. Only faces scoring at least the operating threshold
are listed and counted: pipeline.quality.minScore (0.8 by default), or --min-score S.
With --json the last line is {"images":[{"path","width","height","faces":[...]}]}; an unreadable image
gets {"path","error"} and the exit code is 1.

${engineOptionsUsage}`;

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif|heic|heif)$/i;

/** The image files named: files as given, folders walked (sorted), so a folder never reaches the decoder. */
export function expandImagePaths(args: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && IMAGE_EXT.test(e.name)) out.push(p);
    }
  };
  for (const a of args) {
    let dir = false;
    try {
      dir = statSync(a).isDirectory();
    } catch {
      // Not there: the decoder says so for this path.
    }
    if (dir) {
      const before = out.length;
      walk(a);
      if (out.length === before) out.push(a); // reported as "is a directory, not an image" with no images in it
    } else out.push(a);
  }
  return out;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const roundQ = (q: FaceQuality) => ({
  size: r1(q.size),
  score: Math.round(q.score * 1e4) / 1e4,
  blur: r1(q.blur),
  yaw: r1(q.yaw),
  pitch: r1(q.pitch),
  roll: r1(q.roll),
});

export const detectCommand: Command = {
  name: 'detect',
  summary: 'Detect faces in images: boxes, landmarks, quality',
  usage,
  options: { ...engineOptions, 'min-score': { type: 'string' } },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (!positionals.length) {
      io.stderr(usage);
      return 2;
    }
    const config = configFromArgs(values);
    const gate = config.pipeline.quality;
    const minScore = values['min-score'] === undefined ? gate.minScore : Number(values['min-score']);
    if (!(minScore >= 0 && minScore <= 1)) throw new FacegateError('usage', `--min-score must be a number from 0 to 1 (got "${String(values['min-score'])}")`);
    const files = expandImagePaths(positionals);
    const engine = await engineFromConfig(config);
    const images: unknown[] = [];
    let failed = 0;
    try {
      for (const p of files) {
        try {
          const photo = await decodePhoto(p, { maxPixels: config.web.maxPixels, maxSide: photoSide(config.engine.detector) });
          // Every detection is measured; the gate is applied here so the score rule uses the operating threshold.
          const r = await analyzePhoto(engine, photo, OPEN_GATE);
          const faces = [...r.faces, ...r.rejected]
            .filter((f) => f.score >= minScore)
            .map((f) => toPhoto(f, photo))
            .map((f) => ({ f, reason: gateReason(f.quality, { ...gate, minScore }) }))
            .sort((a, b) => b.f.score - a.f.score)
            .map(({ f, reason }) => ({
              box: f.box.map(r1),
              score: Math.round(f.score * 1e4) / 1e4,
              landmarks: f.landmarks.map((q) => [r1(q[0]), r1(q[1])]),
              quality: roundQ(f.quality),
              ...(reason ? { rejected: reason } : {}),
            }));
          images.push({ path: p, width: photo.width, height: photo.height, faces });
          if (!values.json) {
            io.stdout(`${p}: ${photo.width}x${photo.height}, ${faces.length} face${faces.length === 1 ? '' : 's'}`);
            for (const f of faces)
              io.stdout(
                `  box [${f.box.join(', ')}] score ${f.score.toFixed(3)} size ${f.quality.size} blur ${f.quality.blur} yaw ${f.quality.yaw} pitch ${f.quality.pitch}${f.rejected ? ` (rejected: ${f.rejected})` : ''}`,
              );
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
