/**
 * `npm run bench`: speed of the face engine and the live loop on this machine, with every figure also given as a
 * ratio to a baseline measured in the same run (these machines are noisy; absolute times are only indicative).
 * Baselines: @vladmandic/human on tfjs-wasm for the engine, one-frame-at-a-time for the loop's batching.
 * `--json` prints one JSON object on the last line.
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';

import { engineFromConfig } from '../engine/setup.js';
import { configFromArgs } from '../cli/engine-options.js';
import { OPEN_GATE } from '../engine/largest.js';
import type { FaceEngine } from '../engine/types.js';
import { modelMacs } from '../models/build.js';
import { PipelineLoop, type LoopFrame } from '../pipeline/loop.js';
import type { PipelineObserver } from '../pipeline/observer.js';
import { Bus } from '../events/bus.js';
import { silentLogger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import { pyramid } from '../vision/mtcnn.js';
import { hamiltonFrames, widerImages } from './frames.js';
import { runHumanBaseline } from './human-baseline.js';
import { benchMatch } from './match.js';
import { benchPhoto, bigJpeg, type PhotoBench } from './photo.js';
import { photoSide } from '../engine/photo.js';
import { nowMs, summarize } from './stats.js';

const json = process.argv.includes('--json');
const say = (s: string) => {
  if (!json) process.stdout.write(s + '\n');
};

/** Peak fp32 FLOP/s of this CPU from its flags: cores × GHz × FLOPs per cycle (FMA units × lanes × 2). */
function cpuPeak(): { model: string; cores: number; ghz: number; flopsPerCycle: number; peakGflops: number } {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.+)/.exec(info)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const flags = /flags\s*:\s*(.+)/.exec(info)?.[1] ?? '';
  const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? os.cpus()[0]?.speed ?? 2000);
  const ghz = mhz / 1000;
  const flopsPerCycle = /\bavx512f\b/.test(flags) ? 64 : /\bfma\b/.test(flags) && /\bavx2\b/.test(flags) ? 32 : /\basimd\b/.test(flags) ? 16 : 8;
  const cores = os.availableParallelism();
  return { model, cores, ghz, flopsPerCycle, peakGflops: cores * ghz * flopsPerCycle };
}

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/** The result of `fn` and the peak resident set size (MB) of this process while it ran, sampled every 10 ms. */
async function peakRss<T>(fn: () => Promise<T>): Promise<[T, number]> {
  let peak = rssMb();
  const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 10);
  try {
    const r = await fn();
    return [r, Math.max(peak, rssMb())];
  } finally {
    clearInterval(timer);
  }
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = nowMs();
  const r = await fn();
  return [r, nowMs() - t];
}

/**
 * The engine over frames, one call per `batch` frames with up to `inFlight` calls at once (the live loop keeps one
 * per engine worker); faces/s and frames/s.
 */
async function throughput(engine: FaceEngine, frames: RgbImage[], batch: number, inFlight: number) {
  await engine.analyze(frames.slice(0, 1), OPEN_GATE);
  let faces = 0;
  let next = 0;
  const lane = async () => {
    while (next < frames.length) {
      const part = frames.slice(next, (next += batch));
      const r = await engine.analyze(part, OPEN_GATE);
      faces += r.reduce((n, f) => n + f.faces.length, 0);
    }
  };
  const t = nowMs();
  await Promise.all(Array.from({ length: inFlight }, lane));
  const s = (nowMs() - t) / 1000;
  return { frames: frames.length, faces, seconds: s, facesPerSecond: faces / s, framesPerSecond: frames.length / s, batch, inFlight };
}

/** Frames per analyze() call in the throughput runs. */
const THROUGHPUT_BATCH = 4;
/** Alternating facegate / Human rounds on the clip (odd, for a median). */
const CLIP_ROUNDS = 5;

async function main() {
  const config = configFromArgs({});
  const rssStart = rssMb();
  const [engine, rssLoad] = await peakRss(() => engineFromConfig(config));
  const cpu = cpuPeak();
  const workers = engine.parallelism ?? 1;
  say(
    `facegate bench on ${cpu.model}, ${cpu.cores} cores (peak ≈ ${cpu.peakGflops.toFixed(0)} GFLOP/s fp32), provider ${engine.provider}, ${workers} engine worker(s)`,
  );
  say(`detector ${engine.detectorId}, embedder ${engine.embedderId}\n`);

  const clip = await hamiltonFrames({ fps: 6 });
  const wider = await widerImages(30);
  say(`inputs: ${clip.length} frames of the Hamilton clip (${clip[0]!.width}x${clip[0]!.height}), ${wider.length} WIDER images`);

  // Detector at batch 1 and batch 4 (frames per run).
  await engine.detect(clip.slice(0, 4));
  const [, d1] = await time(async () => {
    for (const f of clip.slice(0, 24)) await engine.detect([f]);
  });
  const [, d4] = await time(async () => {
    for (let i = 0; i < 24; i += 4) await engine.detect(clip.slice(i, i + 4));
  });
  const detector = { msPerFrameBatch1: d1 / 24, msPerFrameBatch4: d4 / 24 };
  say(
    `detector: ${detector.msPerFrameBatch1.toFixed(1)} ms/frame at batch 1, ${detector.msPerFrameBatch4.toFixed(1)} ms/frame at batch 4 (×${(detector.msPerFrameBatch1 / detector.msPerFrameBatch4).toFixed(2)})`,
  );

  // Embedder at batch 1 and 32 on real aligned crops.
  const crops = (await engine.analyze(clip, OPEN_GATE)).flatMap((r) => r.faces.map((f) => f.aligned));
  while (crops.length < 32) crops.push(...crops.slice(0, 32 - crops.length));
  await engine.embedAligned(crops.slice(0, 32));
  const [, e1] = await time(async () => {
    for (const c of crops.slice(0, 32)) await engine.embedAligned([c]);
  });
  const [, e32] = await time(async () => {
    for (let k = 0; k < 3; k++) await engine.embedAligned(crops.slice(0, 32));
  });
  const embedder = { msPerFaceBatch1: e1 / 32, msPerFaceBatch32: e32 / 96 };
  say(
    `embedder: ${embedder.msPerFaceBatch1.toFixed(2)} ms/face at batch 1, ${embedder.msPerFaceBatch32.toFixed(2)} ms/face at batch 32 (×${(embedder.msPerFaceBatch1 / embedder.msPerFaceBatch32).toFixed(2)})`,
  );

  // Share of peak: MACs per second actually run by the embedder at batch 32 (and MTCNN's P-Net at batch 4).
  const embedMacs = modelMacs('mobilefacenet').macs;
  const embedGflops = (2 * embedMacs) / (embedder.msPerFaceBatch32 / 1000) / 1e9;
  const isMtcnn = engine.detectorId.startsWith('mtcnn');
  const pnetMacs = isMtcnn
    ? pyramid(clip[0]!.width, clip[0]!.height, config.engine.detector.minFaceSize, 0.709).reduce(
        (s, l) => s + modelMacs('mtcnn-pnet', [l.height, l.width]).macs,
        0,
      )
    : 0;
  const pnetGflops = isMtcnn ? (2 * pnetMacs) / (detector.msPerFrameBatch4 / 1000) / 1e9 : 0;
  const flops = {
    mobilefacenetMacs: embedMacs,
    embedderGflops: embedGflops,
    embedderFractionOfPeak: embedGflops / cpu.peakGflops,
    ...(isMtcnn ? { pnetPyramidMacsPerFrame: pnetMacs, detectorPnetGflops: pnetGflops, detectorFractionOfPeak: pnetGflops / cpu.peakGflops } : {}),
  };
  const pnetNote = isMtcnn
    ? `; P-Net pyramid ${(pnetMacs / 1e6).toFixed(0)} M MACs/frame → ${((100 * pnetGflops) / cpu.peakGflops).toFixed(1)}% of peak (R/O-Net and JS work excluded)`
    : '';
  say(
    `compute: MobileFaceNet ${(embedMacs / 1e6).toFixed(0)} M MACs/face → ${embedGflops.toFixed(1)} GFLOP/s = ${(100 * flops.embedderFractionOfPeak).toFixed(1)}% of peak${pnetNote}`,
  );

  // The whole detect → align → embed path against Human/WASM on the same frames.
  say(`\nwhole pipeline (detect → align → embed), same decoded frames, ${THROUGHPUT_BATCH} frames per call, ${workers} call(s) in flight as in the live loop:`);
  const rssBefore = rssMb();
  const [oursFirst, rssOurs] = await peakRss(() => throughput(engine, clip, THROUGHPUT_BATCH, workers));
  const rssBeforeHuman = rssMb();
  const [humanFirst, rssHuman] = await peakRss(() => runHumanBaseline(clip));
  // The clip in CLIP_ROUNDS alternating rounds, each side right after the other; the headline is the median
  // round's ratio, since this machine's speed drifts over minutes and the two sides use it differently.
  // MTCNN (the offline fallback) is measured beside it in the later rounds, with the same frames and workers.
  const mtcnn = isMtcnn ? null : await engineFromConfig(config, undefined, (e) => void (e.detector.kind = 'mtcnn'));
  if (mtcnn) await mtcnn.analyze(clip.slice(0, 1), OPEN_GATE);
  const rounds: {
    ours: Awaited<ReturnType<typeof throughput>>;
    human: Awaited<ReturnType<typeof runHumanBaseline>>;
    mtcnn?: Awaited<ReturnType<typeof throughput>>;
  }[] = [{ ours: oursFirst, human: humanFirst }];
  while (rounds.length < CLIP_ROUNDS) {
    const ours = await throughput(engine, clip, THROUGHPUT_BATCH, workers);
    const human = await runHumanBaseline(clip);
    rounds.push({ ours, human, ...(mtcnn ? { mtcnn: await throughput(mtcnn, clip, THROUGHPUT_BATCH, workers) } : {}) });
  }
  const ratios = rounds.map((r) => r.ours.facesPerSecond / r.human.facesPerSecond);
  const mtcnnRatios = rounds.flatMap((r) => (r.mtcnn ? [r.mtcnn.facesPerSecond / r.human.facesPerSecond] : []));
  const mtcnnMedian = mtcnnRatios.length ? [...mtcnnRatios].sort((a, b) => a - b)[Math.floor(mtcnnRatios.length / 2)]! : null;
  const median = [...ratios.keys()].sort((a, b) => ratios[a]! - ratios[b]!)[Math.floor(ratios.length / 2)]!;
  const { ours: oursClip, human: humanClip } = rounds[median]!;
  const speedupVsBaseline = ratios[median]!;
  const oursWider = await throughput(engine, wider, THROUGHPUT_BATCH, workers);
  const humanWider = await runHumanBaseline(wider);
  // The same without overlap: one frame per call, one call at a time (a single camera without pipelining).
  const oursClip1 = await throughput(engine, clip, 1, 1);
  const row = (
    name: string,
    o: { facesPerSecond: number; framesPerSecond: number; faces: number },
    h: { facesPerSecond: number; framesPerSecond: number; faces: number },
  ) =>
    say(
      `  ${name.padEnd(14)} facegate ${o.facesPerSecond.toFixed(1)} faces/s ${o.framesPerSecond.toFixed(1)} frames/s (${o.faces} faces) | Human/WASM ${h.facesPerSecond.toFixed(1)} faces/s ${h.framesPerSecond.toFixed(1)} frames/s (${h.faces} faces) | ×${(o.facesPerSecond / h.facesPerSecond).toFixed(1)} faces/s, ×${(o.framesPerSecond / h.framesPerSecond).toFixed(1)} frames/s`,
    );
  row('Hamilton clip', oursClip, humanClip);
  say(`  (the median of ${CLIP_ROUNDS} alternating rounds; each round's ratio: ${ratios.map((r) => `×${r.toFixed(1)}`).join(', ')})`);
  if (mtcnnMedian !== null) {
    const m = rounds.filter((r) => r.mtcnn).map((r) => r.mtcnn!);
    say(
      `  MTCNN beside it (rounds 2-${CLIP_ROUNDS}): ${m.map((x) => x.facesPerSecond.toFixed(1)).join(', ')} faces/s; ratio to Human ${mtcnnRatios.map((r) => `×${r.toFixed(1)}`).join(', ')}, median ×${mtcnnMedian.toFixed(1)}`,
    );
  }
  row('WIDER x30', oursWider, humanWider);
  row('clip 1 at a time', oursClip1, humanClip);
  // Memory: what loading and running each adds to this process (the frames are already in memory for both).
  const memory = {
    engineLoadMb: rssLoad - rssStart,
    facegateRunMb: rssOurs - rssBefore,
    facegatePeakMb: rssLoad - rssStart + (rssOurs - rssBefore),
    humanPeakMb: rssHuman - rssBeforeHuman,
    processPeakMb: Math.max(rssOurs, rssHuman),
  };
  say(
    `  memory added to the process (RSS): facegate ${memory.facegatePeakMb.toFixed(0)} MB (${memory.engineLoadMb.toFixed(0)} to load its ${workers} engine(s), ${memory.facegateRunMb.toFixed(0)} more while running the clip) | Human/WASM ${memory.humanPeakMb.toFixed(0)} MB to load and run | ×${(memory.facegatePeakMb / memory.humanPeakMb).toFixed(2)}`,
  );

  // The live loop: batching across 4 cameras vs one frame at a time, and latency at 5 fps with one camera.
  say('\nlive loop (same clip as every camera):');
  const loopRun = async (cameras: number, batchFrames: number) => {
    const loop = new PipelineLoop({
      sources: [],
      engine,
      facebank: { people: async () => [], samples: async () => [] },
      bus: new Bus(),
      config,
      log: silentLogger(),
      batchFrames,
    });
    const frames: LoopFrame[] = [];
    const n = Math.min(clip.length, 40);
    for (let i = 0; i < n; i++) for (let c = 0; c < cameras; c++) frames.push({ camera: `cam${c}`, image: clip[i]!, time: i * 200 });
    const [, ms] = await time(() => loop.processFrames(frames));
    return frames.length / (ms / 1000);
  };
  const loop1 = await loopRun(1, 1);
  const loop4off = await loopRun(4, 1);
  const loop4on = await loopRun(4, 4);
  say(
    `  1 camera: ${loop1.toFixed(1)} frames/s; 4 cameras: ${loop4on.toFixed(1)} frames/s batched vs ${loop4off.toFixed(1)} one at a time (×${(loop4on / loop4off).toFixed(2)})`,
  );

  const latencies: number[] = [];
  const ticks: number[] = [];
  const observer: PipelineObserver = {
    stage: (s, sec) => s === 'tick' && ticks.push(sec * 1000),
    batch() {},
    faces() {},
    framesDropped() {},
    eventLatency: (sec) => latencies.push(sec * 1000),
  };
  let i = 0;
  let next = Date.now();
  const source = {
    name: 'door',
    takeLatest() {
      if (Date.now() < next || i >= clip.length) return null;
      next += 200;
      return { image: clip[i]!, seq: i++, time: Date.now() };
    },
  };
  const live = new PipelineLoop({
    sources: [source],
    engine,
    facebank: { people: async () => [], samples: async () => [] },
    bus: new Bus(),
    config,
    log: silentLogger(),
    observer,
  });
  live.start();
  while (i < clip.length) await new Promise((r) => setTimeout(r, 50));
  await live.stop();
  const tick = summarize(ticks);
  const ev = summarize(latencies);
  say(
    `  one camera at 5 fps: frame → processed p50 ${tick.p50.toFixed(0)} ms, p95 ${tick.p95.toFixed(0)} ms; frame → event handed to MQTT p50 ${ev.p50.toFixed(0)} ms, p95 ${ev.p95.toFixed(0)} ms (${ev.n} events)`,
  );

  // Large photos through the enrolment path (decoded small, faces aligned from full-quality crops): a portrait
  // and a group photo, each upscaled to 38 MP.
  const photo: Record<string, unknown> = {};
  for (const which of ['portrait', 'group'] as const) {
    const big = await bigJpeg(38, which);
    const side = photoSide(config.engine.detector);
    const p = {
      width: big.width,
      height: big.height,
      megapixels: (big.width * big.height) / 1e6,
      bytes: big.jpeg.length,
      default: await benchPhoto(engine, big.jpeg, side, config.pipeline.quality),
      mtcnn: mtcnn ? await benchPhoto(mtcnn, big.jpeg, side, config.pipeline.quality) : null,
    };
    photo[which] = p;
    const pl = (name: string, r: PhotoBench) =>
      say(
        `  ${name.padEnd(8)} ${r.ms.toFixed(0)} ms, ${r.faces} face(s); RSS added: peak ${r.peakAddedMb.toFixed(0)} MB, ${r.afterAddedMb.toFixed(0)} MB a second later`,
      );
    say(`\n${which}: one ${p.megapixels.toFixed(1)}-megapixel JPEG (${p.width}x${p.height}, ${(p.bytes / 2 ** 20).toFixed(1)} MB) through the enrolment path:`);
    pl('default', p.default);
    if (p.mtcnn) pl('MTCNN', p.mtcnn);
  }
  await mtcnn?.close();

  const match = benchMatch({ queries: 500 });
  say(`\nmatching one face against ${match.samples} samples (${match.backend}): p50 ${match.us.p50.toFixed(0)} µs, mean ${match.us.mean.toFixed(0)} µs`);
  await engine.close();

  const result = {
    speedupVsBaseline,
    machine: cpu,
    provider: engine.provider,
    workers,
    throughputBatch: THROUGHPUT_BATCH,
    detector,
    embedder,
    flops,
    pipeline: { hamilton: oursClip, wider: oursWider, hamiltonOnePerCall: oursClip1 },
    speedupOnePerCall: oursClip1.facesPerSecond / humanClip.facesPerSecond,
    detectorId: engine.detectorId,
    mtcnn: mtcnnMedian === null ? null : { speedupVsBaseline: mtcnnMedian, rounds: mtcnnRatios },
    photo,
    clipRounds: rounds.map((r, k) => ({ facegate: r.ours.facesPerSecond, human: r.human.facesPerSecond, ratio: ratios[k] })),
    baseline: { name: '@vladmandic/human 3.3.6 on tfjs-backend-wasm (SIMD)', hamilton: humanClip, wider: humanWider },
    speedupWider: oursWider.facesPerSecond / humanWider.facesPerSecond,
    memory: { ...memory, ratioVsBaseline: memory.facegatePeakMb / memory.humanPeakMb },
    loop: {
      oneCameraFps: loop1,
      fourCamerasBatchedFps: loop4on,
      fourCamerasUnbatchedFps: loop4off,
      batchingGain: loop4on / loop4off,
      tickMs: tick,
      eventLatencyMs: ev,
    },
    match: { samples: match.samples, backend: match.backend, usP50: match.us.p50, usMean: match.us.mean },
  };
  say(
    `\nspeedupVsBaseline (faces/s on the Hamilton clip, ${THROUGHPUT_BATCH} frames per call, ${workers} in flight, vs Human/WASM): ×${speedupVsBaseline.toFixed(1)}; one frame at a time ×${(oursClip1.facesPerSecond / humanClip.facesPerSecond).toFixed(1)}`,
  );
  if (json) process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
