/**
 * `facegate eval video`: runs the live pipeline over a video file with a facebank and scores what a user would
 * see, per track and per drawn box (video.ts).
 */
import type { Config } from '../config/schema.js';
import type { FaceEngine } from '../engine/types.js';
import { readFrames } from '../ingest/reader.js';
import type { SampleSource } from '../match/live.js';
import { PipelineLoop, type LatestFaces, type LoopFrame } from '../pipeline/loop.js';
import { nullObserver, type PipelineObserver } from '../pipeline/observer.js';
import type { RecognitionEvent } from '../events/types.js';
import { Bus } from '../events/bus.js';
import type { Logger } from '../util/log.js';
import { scoreVideo, type Appearance, type BoxSeen, type TrackSeen, type VideoScore } from './video.js';

export interface VideoReport extends VideoScore {
  frames: number;
  events: number;
  seconds: number;
  detectorId: string;
  embedderId: string;
}

export async function evalVideo(
  engine: FaceEngine,
  facebank: SampleSource,
  config: Config,
  log: Logger,
  file: string,
  appears: readonly Appearance[],
  opts: { fps: number; width: number },
): Promise<VideoReport> {
  const t0 = Date.now();
  const seen = new Map<string, TrackSeen>();
  const boxes: BoxSeen[] = [];
  const observer: PipelineObserver = {
    ...nullObserver,
    frame(_camera: string, f: LatestFaces) {
      for (const b of f.boxes) {
        boxes.push({ time: f.time / 1000, name: b.name });
        if (!b.track) continue;
        const t = seen.get(b.track) ?? { track: b.track, times: [], names: [], decided: false };
        t.times.push(f.time / 1000);
        seen.set(b.track, t);
      }
    },
  };
  const loop = new PipelineLoop({ sources: [], engine, facebank, bus: new Bus(), config, log, observer });
  const events: RecognitionEvent[] = [];
  const batch: LoopFrame[] = [];
  let frames = 0;
  let last = 0;
  for await (const f of readFrames(file, { fps: opts.fps, width: opts.width, ffmpegPath: config.ffmpeg.path })) {
    frames++;
    last = f.offsetMs;
    // Frame times count from 0, so they read as seconds into the video.
    batch.push({ camera: 'video', image: f.image, time: f.offsetMs });
    if (batch.length === 8) events.push(...(await loop.processFrames(batch.splice(0))));
  }
  if (batch.length) events.push(...(await loop.processFrames(batch)));
  events.push(...(await loop.flush(last + config.track.endAfterSeconds * 1000)));
  for (const e of events) {
    const t = seen.get(e.track);
    if (!t) continue;
    t.decided = true;
    if (e.type !== 'end' && e.person) t.names.push(e.person.name);
  }
  return {
    ...scoreVideo([...seen.values()], boxes, appears),
    frames,
    events: events.length,
    seconds: (Date.now() - t0) / 1000,
    detectorId: engine.detectorId,
    embedderId: engine.embedderId,
  };
}
