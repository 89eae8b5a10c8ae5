/** `facegate embed <image>`: the embedding of the largest face. */
import type { Command } from './command.js';
import { engineFromConfig } from '../engine/setup.js';
import { configFromArgs, engineOptions, engineOptionsUsage } from './engine-options.js';
import { largestFace } from '../engine/largest.js';
import { photoSide } from '../engine/photo.js';
import { decodePhoto } from '../ingest/still.js';
import { FacegateError } from '../util/errors.js';

const usage = `Usage: facegate embed <image> [--json] [--config <file>]

Prints the L2-normalised embedding of the largest face in the image.
With --json: {"path","embedderId","box","score","quality","embedding":[...]}.

${engineOptionsUsage}`;

export const embedCommand: Command = {
  name: 'embed',
  summary: 'Print the embedding of the largest face in an image',
  usage,
  options: { ...engineOptions },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new FacegateError('usage', `embed takes exactly one image\n\n${usage}`);
    const config = configFromArgs(values);
    const img = await decodePhoto(positionals[0]!, { maxPixels: config.web.maxPixels, maxSide: photoSide(config.engine.detector) });
    const engine = await engineFromConfig(config);
    try {
      const f = await largestFace(engine, img, positionals[0]);
      const embedding = Array.from(f.embedding, (x) => Math.round(x * 1e6) / 1e6);
      if (values.json)
        io.stdout(JSON.stringify({ path: positionals[0], embedderId: engine.embedderId, box: f.box, score: f.score, quality: f.quality, embedding }));
      else {
        io.stdout(
          `${positionals[0]}: face [${f.box.map(Math.round).join(', ')}] score ${f.score.toFixed(3)}, ${engine.embedderId}, ${embedding.length} values:`,
        );
        io.stdout(embedding.map((x) => x.toFixed(5)).join(' '));
      }
      return 0;
    } finally {
      await engine.close();
    }
  },
};
