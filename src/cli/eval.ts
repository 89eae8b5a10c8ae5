/** `facegate eval lfw|identification|detection|video`: accuracy of the configured (or named) models on standard data sets and videos. */
import type { Command } from './command.js';
import { engineFromConfig } from '../engine/setup.js';
import { configFromArgs, engineOptions, engineOptionsUsage } from './engine-options.js';
import { evalDetection, evalLfw } from '../eval/run.js';
import { evalIdentification, siteRuleSnippet, type IdentificationReport } from '../eval/run-identification.js';
import { evalVideo, type VideoReport } from '../eval/run-video.js';
import { parseAppearance } from '../eval/video.js';
import { chooseFace } from '../engine/choose-face.js';
import { decodeImage } from '../ingest/still.js';
import type { FaceEngine } from '../engine/types.js';
import type { Person, Sample } from '../store/types.js';
import { configWithDataDir, withFacebankReadOnly } from './context.js';
import { createLogger } from '../util/log.js';
import { FacegateError } from '../util/errors.js';

const usage = `Usage:
  facegate eval lfw --data <dir> [--limit-folds N] [--json]
      LFW verification: <dir> holds pairs.txt and lfw-deepfunneled/. Each image goes through the full
      pipeline (detect, align, embed; the face nearest the image centre; a centred default box when no
      face is found). 10-fold accuracy (threshold chosen on 9 folds), TAR at FAR 1e-3.
  facegate eval identification --data <dir> [--sizes 10,100,1000,2000,all] [--deals 3] [--cache <dir>] [--limit-identities N] [--json]
      Open-set 1:N identification on LFW (<dir> holds lfw-deepfunneled/), per face and per track of 2 and 3
      different photos. The people are dealt into 16 folds; each fold's people are strangers to galleries of
      N people (one photo each, averaged with its mirror as enrolment does) drawn from the other folds; LFW's
      pairs of names of one person are merged. Each deal into folds gives two splits: thresholds for FPIR
      1e-1, 1e-2, 1e-3 are fitted on the even folds' strangers (at the 95 % upper bound of the rate) and
      checked on the odd folds' (held out), then the other way round. False names and DIR (named, and named
      right) are means over the splits. "all" is everyone outside one fold. --cache keeps the embeddings (per detector +
      embedder) so a second run does not run the models. Prints the fitted rule (for match/thresholds.ts),
      and the config lines (match.rules) that make an appliance with this detector and embedder file use it.
  facegate eval video <file> --appears "Name[@s-e,...]" ... [--enrol "Name=photo" ...] [--fps N] [--json]
      Runs the live pipeline over a video and counts its tracks named correctly, named wrongly (a name of
      someone not on screen then: not listed, or outside the listed seconds) and left unknown, and the boxes
      drawn with a wrong name. The facebank is the data directory's, or, with --enrol, one photo per name.
  facegate eval detection --data <dir> [--limit N] [--score-threshold S] [--json]
      Face detection AP at IoU 0.5 (all faces, and faces >= 32 px tall) and recall by face height at the
      score where precision is 0.9. <dir> holds labels.txt ("# <path> <w> <h>" then "x1 y1 x2 y2" lines).
      The detector's score threshold is lowered to S (default 0.05) so the whole curve is measured.

--json prints fractions on the last line.

${engineOptionsUsage}`;

const pct = (x: number) => (x * 100).toFixed(2);

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Measure recognition (LFW) or detection (WIDER-style) accuracy',
  usage,
  options: {
    ...engineOptions,
    data: { type: 'string' },
    'limit-folds': { type: 'string' },
    limit: { type: 'string' },
    'score-threshold': { type: 'string' },
    sizes: { type: 'string' },
    'limit-identities': { type: 'string' },
    deals: { type: 'string' },
    cache: { type: 'string' },
    appears: { type: 'string', multiple: true },
    enrol: { type: 'string', multiple: true },
    fps: { type: 'string' },
  },
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const [which, ...extra] = positionals;
    if (which === 'video') return runVideo(extra, values, io.stdout);
    if (extra.length || (which !== 'lfw' && which !== 'detection' && which !== 'identification'))
      throw new FacegateError('usage', `eval needs "lfw", "identification", "detection" or "video"\n\n${usage}`);
    const data = values.data as string | undefined;
    if (!data) throw new FacegateError('usage', `eval ${which} needs --data <dir>\n\n${usage}`);
    const int = (name: string) => {
      const v = values[name] as string | undefined;
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new FacegateError('usage', `--${name} must be a positive integer`);
      return n;
    };
    const config = configFromArgs(values);
    const json = Boolean(values.json);
    const progress = json || !process.stderr.isTTY ? undefined : (d: number, t: number) => process.stderr.write(`\r${d}/${t}`);
    if (which === 'identification') {
      const sizes = ((values.sizes as string | undefined) ?? '10,100,1000,all').split(',').map((x) => {
        const t = x.trim();
        if (t === 'all') return 'all' as const;
        const n = Number(t);
        if (!Number.isInteger(n) || n < 2) throw new FacegateError('usage', `--sizes takes gallery sizes of 2 or more, or "all" (got "${t}")`);
        return n;
      });
      const engine = await engineFromConfig(config);
      try {
        const r = await evalIdentification(engine, data, {
          sizes,
          margin: config.match.margin,
          targetFpir: config.match.targetFpir,
          siteRules: config.match.rules,
          limitIdentities: int('limit-identities'),
          cacheDir: values.cache as string | undefined,
          deals: int('deals'),
          progress,
        });
        if (progress) process.stderr.write('\n');
        if (json) io.stdout(JSON.stringify(r));
        else printIdentification(r, io.stdout);
      } finally {
        await engine.close();
      }
      return 0;
    }
    if (which === 'lfw') {
      const limitFolds = int('limit-folds');
      const engine = await engineFromConfig(config);
      try {
        const r = await evalLfw(engine, data, { limitFolds, progress });
        if (progress) process.stderr.write('\n');
        if (json) io.stdout(JSON.stringify(r));
        else {
          io.stdout(`LFW ${r.pairs} pairs, ${r.images} images (${r.noFace} without a detected face), ${r.seconds.toFixed(0)} s`);
          io.stdout(`  detector  ${r.detectorId}\n  embedder  ${r.embedderId}`);
          io.stdout(`  accuracy  ${pct(r.accuracy)} ± ${pct(r.std)} %   (folds: ${r.foldAccuracies.map(pct).join(' ')})`);
          io.stdout(
            `  TAR@FAR1e-3  ${pct(r.tarAtFar1e3)} %   threshold at FAR 1e-3 ${r.thresholdAtFar1e3.toFixed(3)}; best-accuracy threshold (mean) ${r.threshold.toFixed(3)}`,
          );
        }
      } finally {
        await engine.close();
      }
      return 0;
    }
    const s = values['score-threshold'] === undefined ? 0.05 : Number(values['score-threshold']);
    if (!(s >= 0 && s <= 1)) throw new FacegateError('usage', '--score-threshold must be between 0 and 1');
    const engine = await engineFromConfig(config, undefined, (e) => void (e.detector.scoreThreshold = s));
    try {
      const r = await evalDetection(engine, data, { limit: int('limit'), progress });
      if (progress) process.stderr.write('\n');
      const recallBySize = Object.fromEntries(Object.entries(r.recallBySize).map(([k, v]) => [k, v.recall]));
      if (json)
        io.stdout(JSON.stringify({ ...r, recallBySize, faceCountBySize: Object.fromEntries(Object.entries(r.recallBySize).map(([k, v]) => [k, v.faces])) }));
      else {
        io.stdout(`Detection: ${r.images} images, ${r.faces} faces, ${r.detectorId}, ${r.msPerImage.toFixed(0)} ms/image`);
        io.stdout(`  AP50 all faces ${pct(r.ap50)} %, faces >= 32 px ${pct(r.ap50Min32)} %`);
        io.stdout(`  recall by face height at score ${r.scoreAtP90.toFixed(3)} (precision 0.9):`);
        for (const [k, v] of Object.entries(r.recallBySize))
          io.stdout(`    ${k.padEnd(7)} ${Number.isNaN(v.recall) ? '   -  ' : pct(v.recall).padStart(6)} %  (${v.faces} faces)`);
      }
    } finally {
      await engine.close();
    }
    return 0;
  },
};

function printIdentification(r: IdentificationReport, out: (s: string) => void): void {
  out(
    `LFW open-set identification: ${r.identities} people (${r.samePersonMerged} pairs of names of one person merged), ${r.images} images (${r.noFace} without a detected face), ${r.folds} folds, ${r.deals} deals (${2 * r.deals} splits), ${r.seconds.toFixed(0)} s`,
  );
  out(`  detector  ${r.detectorId}\n  embedder  ${r.embedderId}\n  margin    ${r.margin}`);
  for (const k of r.keys) {
    out(
      `\n  ${k.keys === 1 ? 'Faces' : `Tracks of ${k.keys} different photos`}: strangers ${k.fitStrangers} / ${k.checkStrangers} (halves of the first deal); per split the threshold is fitted on one half and the rates measured on the other; threshold = mean of the splits', rates = means (worst split's FPIR in brackets)`,
    );
    out('  gallery  draws  rank-1    ' + r.fitted.fpirs.map((f) => `@${f.toExponential(0)}: threshold  FPIR (worst)       DIR`.padEnd(46)).join(''));
    for (const s of k.sizes) {
      const cols = s.points
        .map((p) =>
          `${p.threshold.toFixed(3).padStart(13)}  ${p.checkFpirExpected.toExponential(1)} (${p.checkFpirExpectedMax.toExponential(1)})  ${pct(p.checkDir).padStart(6)} %`.padEnd(
            46,
          ),
        )
        .join('');
      out(`  ${String(s.size).padStart(7)}  ${String(s.draws).padStart(5)}  ${pct(s.rank1).padStart(6)} %  ${cols}`);
    }
    if (r.ruleFpir !== null && k.sizes.some((s) => s.rule))
      out(
        `  shipped rule (${r.ruleKey}) at ${r.ruleFpir}: ${k.sizes.map((s) => (s.rule ? `N=${s.size}: ${s.rule.threshold.toFixed(3)} → FPIR ${s.rule.checkFpir.toExponential(1)}, DIR ${pct(s.rule.checkDir)} %` : '')).join('; ')}`,
      );
  }
  out(`\n  fitted rule for '${r.pairKey}': ${JSON.stringify(r.fitted)}`);
  out(`\n  To name people by this rule on an appliance running this detector and embedder file, add to its config file:\n${siteRuleSnippet(r)}`);
}

/** A facebank in memory: one sample per "Name=photo". */
async function photoFacebank(engine: FaceEngine, specs: string[], quality: Parameters<FaceEngine['analyze']>[1]) {
  const people: Person[] = [];
  const samples: Sample[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq < 1) throw new FacegateError('usage', `--enrol takes "Name=photo" (got "${spec}")`);
    const name = spec.slice(0, eq).trim();
    const file = spec.slice(eq + 1);
    const [r] = await engine.analyze([await decodeImage(file)], quality);
    const c = chooseFace(r!);
    if (c.kind !== 'face') throw new FacegateError('no_face', `${file}: ${c.message}`);
    let p = people.find((x) => x.name === name);
    if (!p) people.push((p = { id: `p${people.length + 1}`, name, created: '', notes: '' }));
    samples.push({
      id: `s${samples.length + 1}`,
      personId: p.id,
      embedding: c.face.embedding,
      modelId: engine.embedderId,
      quality: c.face.quality,
      source: 'cli',
      created: '',
      negative: false,
    });
  }
  return { people: async () => people, samples: async () => samples };
}

async function runVideo(files: string[], values: Record<string, unknown>, out: (s: string) => void): Promise<number> {
  if (files.length !== 1) throw new FacegateError('usage', `eval video takes one video file\n\n${usage}`);
  const appears = ((values.appears as string[] | undefined) ?? []).map(parseAppearance);
  if (!appears.length) throw new FacegateError('usage', 'eval video needs --appears for each enrolled person who is in the video (others are strangers)');
  const config = configWithDataDir(values);
  const fps = values.fps === undefined ? config.pipeline.fps : Number(values.fps);
  if (!(fps > 0 && fps <= 30)) throw new FacegateError('usage', '--fps must be a number from 0 to 30');
  const log = createLogger('warn');
  const engine = await engineFromConfig(config, log);
  try {
    const enrol = values.enrol as string[] | undefined;
    const run = (fb: Parameters<typeof evalVideo>[1]) => evalVideo(engine, fb, config, log, files[0]!, appears, { fps, width: config.pipeline.frameWidth });
    const r = enrol?.length ? await run(await photoFacebank(engine, enrol, config.pipeline.quality)) : await withFacebankReadOnly(config, run);
    if (values.json) out(JSON.stringify(r));
    else printVideo(r, out);
  } finally {
    await engine.close();
  }
  return 0;
}

function printVideo(r: VideoReport, out: (s: string) => void): void {
  out(`Video: ${r.frames} frames, ${r.events} events, ${r.seconds.toFixed(0)} s (${r.detectorId}, ${r.embedderId})`);
  out(`  tracks ${r.tracks}: named correctly ${r.namedCorrectly}, named wrongly ${r.namedWrongly}, left unknown ${r.leftUnknown}`);
  out(`  boxes drawn with a name ${r.boxesNamed}, with a wrong name ${r.boxesWrong}; people named: ${r.peopleNamed.join(', ') || 'nobody'}`);
  for (const w of r.wrong) out(`  wrong: ${w.track} named ${w.names.join(', ')} at ${w.from.toFixed(1)}-${w.to.toFixed(1)} s`);
}
