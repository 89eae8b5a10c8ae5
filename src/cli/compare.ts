/** `facegate compare <a> <b>`: cosine similarity of the largest faces, and whether they are the same person. */
import type { Command } from './command.js';
import { engineFromConfig } from '../engine/setup.js';
import { configFromArgs, engineOptions, engineOptionsUsage } from './engine-options.js';
import { largestFace } from '../engine/largest.js';
import { photoSide } from '../engine/photo.js';
import { decodePhoto } from '../ingest/still.js';
import { cosine } from '../eval/lfw.js';
import { FacegateError } from '../util/errors.js';

const usage = `Usage: facegate compare <image-a> <image-b> [--json] [--config <file>]

Compares the largest face of each image. "same" is similarity >= threshold, where the threshold is
match.threshold from the config, else the embedder's threshold at FAR 1e-3 measured on LFW.
With --json: {"similarity","threshold","same"}.

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
      const threshold = config.match.threshold ?? engine.defaultThreshold;
      const same = similarity >= threshold;
      if (values.json) io.stdout(JSON.stringify({ similarity, threshold, same, embedderId: engine.embedderId }));
      else io.stdout(`similarity ${similarity.toFixed(4)} (threshold ${threshold}): ${same ? 'same person' : 'different people'}`);
      return 0;
    } finally {
      await engine.close();
    }
  },
};
