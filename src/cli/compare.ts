/** `facegate compare <a> <b>`: cosine similarity of the largest faces, and whether they are the same person. */
import type { Command } from './command.js';
import { engineFromConfig } from '../engine/setup.js';
import { configFromArgs, engineOptions, engineOptionsUsage } from './engine-options.js';
import { largestFace } from '../engine/largest.js';
import { photoSide } from '../engine/photo.js';
import { decodePhoto } from '../ingest/still.js';
import { cosine } from '../match/cosine.js';
import { FacegateError } from '../util/errors.js';
import { OperatingPointSource } from '../enrol/point.js';
import { withFacebankReadOnly } from './context.js';

const usage = `Usage: facegate compare <image-a> <image-b> [--json] [--config <file>]

Compares the largest face of each image. "same" is similarity >= threshold, where the threshold is the
one the running appliance names people at: match.threshold from the config, else the embedder's
open-set rule for the number of people in the facebank (read without changing it).
With --json: {"similarity","threshold","same","operatingPoint"}.

${engineOptionsUsage}`;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Compare the faces in two images',
  usage,
  options: { ...engineOptions },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length !== 2) throw new FacegateError('usage', `compare takes exactly two images\n\n${usage}`);
    const config = configFromArgs(values);
    const [a, b] = await Promise.all(positionals.map((p) => decodePhoto(p, { maxPixels: config.web.maxPixels, maxSide: photoSide(config.engine.detector) })));
    const engine = await engineFromConfig(config);
    try {
      const fa = await largestFace(engine, a!, positionals[0]);
      const fb = await largestFace(engine, b!, positionals[1]);
      const similarity = Math.round(cosine(fa.embedding, fb.embedding) * 1e4) / 1e4;
      // The same operating point the appliance uses (src/enrol/point.ts), for the facebank as it is.
      const point = await withFacebankReadOnly(config, (fbank) => new OperatingPointSource(fbank, config.match, () => engine).current());
      const threshold = point.threshold;
      const same = similarity >= threshold;
      if (values.json) io.stdout(JSON.stringify({ similarity, threshold, same, embedderId: engine.embedderId, operatingPoint: point }));
      else io.stdout(`similarity ${similarity.toFixed(4)} (threshold ${threshold}): ${same ? 'same person' : 'different people'}\n${point.sentence}`);
      return 0;
    } finally {
      await engine.close();
    }
  },
};
