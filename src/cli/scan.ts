/** `facegate scan <file|url>`: the live pipeline on one source, to its end, one JSON event per line. */
import { readFrames } from '../ingest/reader.js';
import { engineFromConfig } from '../engine/setup.js';
import { PipelineLoop, type LoopFrame } from '../pipeline/loop.js';
import { Snapshots } from '../store/snapshots.js';
import { Bus } from '../events/bus.js';
import { FacegateError } from '../util/errors.js';
import { createLogger } from '../util/log.js';
import type { RecognitionEvent } from '../events/types.js';
import type { Command } from './command.js';
import { configWithDataDir, withFacebankReadOnly } from './context.js';
import { engineOptions, engineOptionsUsage } from './engine-options.js';

const usage = `Usage: facegate scan <file|url> [--json] [--fps N] [--width PX] [--duration S] [--camera NAME] [--snapshots]

Runs the recognition pipeline (detect → align → embed → match → track) over every sampled frame of one
source and prints each decision as it is made: with --json one JSON object per line, with the same fields
as the MQTT event payload (type, id, camera, track, person {id,name} or null, similarity, confidence, box,
quality, frameTime, publishTime, snapshot). Needs no MQTT broker. Files are read as fast as they decode.
The last line with --json is a summary object {"summary": {...}}.

Options:
  --fps N          frames per second to analyse (default pipeline.fps)
  --width PX       decode width (default pipeline.frameWidth)
  --duration S     stop after S seconds of stream (live sources)
  --camera NAME    camera name used in events (default "scan")
  --snapshots      save best-face snapshots in <dataDir>/snapshots (otherwise snapshot is null)

${engineOptionsUsage}`;

export const scanCommand: Command = {
  name: 'scan',
  summary: 'Run the pipeline over one video file or stream and print its events',
  usage,
  allowPositionals: true,
  options: {
    ...engineOptions,
    fps: { type: 'string' },
    width: { type: 'string' },
    duration: { type: 'string' },
    camera: { type: 'string' },
    snapshots: { type: 'boolean' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new FacegateError('usage', `scan takes one file or URL\n\n${usage}`);
    const config = configWithDataDir(values);
    const num = (k: string, d: number) => {
      if (values[k] === undefined) return d;
      const n = Number(values[k]);
      if (!Number.isFinite(n) || n <= 0) throw new FacegateError('usage', `--${k} must be a positive number`);
      return n;
    };
    const fps = num('fps', config.pipeline.fps);
    const width = Math.round(num('width', config.pipeline.frameWidth));
    const duration = values.duration === undefined ? undefined : num('duration', 0);
    const camera = (values.camera as string | undefined) ?? 'scan';
    const log = createLogger(values.json ? 'warn' : config.log.level);
    const engine = await engineFromConfig(config, log);
    try {
      return await withFacebankReadOnly(config, async (facebank) => {
        const loop = new PipelineLoop({
          sources: [],
          engine,
          facebank,
          bus: new Bus(),
          config,
          log,
          snapshots: values.snapshots ? new Snapshots(config.dataDir) : undefined,
        });
        const counts = { frames: 0, events: 0, recognised: new Set<string>(), unknownTracks: 0 };
        const print = (evs: RecognitionEvent[]) => {
          for (const e of evs) {
            counts.events++;
            if (e.type !== 'end' && e.person) counts.recognised.add(e.person.name);
            if (e.type === 'new' && !e.person) counts.unknownTracks++;
            if (values.json) io.stdout(JSON.stringify(e));
            else
              io.stdout(
                `${e.frameTime} ${e.camera} ${e.track} ${e.type.padEnd(6)} ${e.person ? e.person.name : 'unknown'}${e.similarity === null ? '' : ` (similarity ${e.similarity.toFixed(3)})`}`,
              );
          }
        };
        const start = Date.now();
        let batch: LoopFrame[] = [];
        let lastTime = start;
        for await (const f of readFrames(positionals[0]!, { fps, width, ffmpegPath: config.ffmpeg.path, durationSeconds: duration })) {
          counts.frames++;
          lastTime = start + f.offsetMs;
          batch.push({ camera, image: f.image, time: lastTime });
          if (batch.length === 8) {
            print(await loop.processFrames(batch));
            batch = [];
          }
        }
        if (batch.length) print(await loop.processFrames(batch));
        print(await loop.flush(lastTime + config.track.endAfterSeconds * 1000));
        const summary = { frames: counts.frames, events: counts.events, people: [...counts.recognised].sort(), unknownTracks: counts.unknownTracks };
        if (values.json) io.stdout(JSON.stringify({ summary }));
        else
          io.stdout(
            `${counts.frames} frames, ${counts.events} events; recognised: ${summary.people.join(', ') || 'nobody'}; unknown tracks: ${summary.unknownTracks}`,
          );
        return 0;
      });
    } finally {
      await engine.close();
    }
  },
};
