/**
 * Tracks of real video as stranger tracks for the per-track rule: the pipeline's detector, embedder and tracker
 * run over a video with nobody enrolled, and each track keeps its faces and key faces as the live tracker would
 * (track/keys.ts). Matched against galleries of LFW people (none of whom is in the video), any name a track gets
 * is a false name; unlike LFW tracks of different photos, a video track's faces are nearly alike, which is the
 * correlation the per-track rule must survive.
 */
import type { Config } from '../config/schema.js';
import type { FaceEngine } from '../engine/types.js';
import { readFrames } from '../ingest/reader.js';
import { rng } from '../match/random.js';
import { trackEvidence, type TrackFace } from '../match/track-evidence.js';
import { addKey } from '../track/keys.js';
import { qualityWeight, Tracker, type TrackInput } from '../track/tracker.js';
import { frameSignature } from '../track/scene.js';
import { galleryMatcher, type Identity } from './open-set.js';

export interface VideoTrack {
  track: string;
  /** Seconds from the start of the video. */
  from: number;
  to: number;
  faces: TrackFace[];
  /** Key faces, as the live tracker keeps them. */
  keys: TrackFace[];
}

const unit = (v: Float32Array): Float32Array => {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return Float32Array.from(v, (x) => x * inv);
};

/** The tracks of a video with their faces (nobody enrolled, so no track is named). */
export async function videoTracks(
  engine: FaceEngine,
  config: Pick<Config, 'pipeline' | 'track' | 'ffmpeg'>,
  file: string,
  opts: { fps: number; width: number },
): Promise<VideoTrack[]> {
  const tracker = new Tracker('video', config.track);
  const tracks = new Map<string, VideoTrack>();
  const run = async (frames: { image: Parameters<typeof frameSignature>[0]; offsetMs: number }[]) => {
    const analyzed = await engine.analyze(
      frames.map((f) => f.image),
      config.pipeline.quality,
    );
    frames.forEach((f, i) => {
      const r = analyzed[i]!;
      const inputs: TrackInput[] = [
        ...r.faces.map((face) => ({ box: face.box, quality: face.quality, face: { aligned: face.aligned, embedding: face.embedding } })),
        ...r.rejected.map((rj) => ({ box: rj.box, quality: rj.quality })),
      ];
      const u = tracker.update(f.offsetMs, inputs, frameSignature(f.image));
      r.faces.forEach((face, j) => {
        const id = u.tracks[j];
        if (!id) return;
        const t = tracks.get(id) ?? { track: id, from: f.offsetMs / 1000, to: f.offsetMs / 1000, faces: [], keys: [] };
        const tf = { embedding: unit(face.embedding), weight: qualityWeight(face.quality) };
        t.faces.push(tf);
        addKey(t.keys, tf);
        t.to = f.offsetMs / 1000;
        tracks.set(id, t);
      });
    });
  };
  let batch: { image: Parameters<typeof frameSignature>[0]; offsetMs: number }[] = [];
  for await (const f of readFrames(file, { fps: opts.fps, width: opts.width, ffmpegPath: config.ffmpeg.path })) {
    batch.push(f);
    if (batch.length === 8) await run(batch.splice(0));
  }
  if (batch.length) await run(batch);
  batch = [];
  return [...tracks.values()];
}

export interface VideoStrangerCheck {
  size: number;
  /** Galleries drawn. */
  draws: number;
  /** Tracks with at least `minFaces` faces (the tracker names none with fewer). */
  tracks: number;
  /** Track × gallery trials in which the track was named (anyone). */
  named: number;
  /** named / (tracks × draws). */
  rate: number;
  /** Highest track similarity seen (mean over its key faces) to anyone. */
  highest: number;
}

/**
 * False names of video stranger tracks against `draws` random galleries of `size` LFW people, each track judged
 * from its key faces at thresholdFor(keys) (as the live tracker does).
 */
export function videoStrangerCheck(
  tracks: readonly VideoTrack[],
  ids: readonly Identity[],
  size: number,
  draws: number,
  thresholdFor: (keys: number) => number,
  opts: { margin: number; minFaces: number; seed?: number },
): VideoStrangerCheck {
  const rand = rng(opts.seed ?? 7);
  const used = tracks.filter((t) => t.faces.length >= opts.minFaces);
  let named = 0;
  let highest = -1;
  for (let d = 0; d < draws; d++) {
    const pool = [...ids];
    for (let i = 0; i < Math.min(size, pool.length); i++) {
      const j = i + Math.floor(rand() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const matcher = galleryMatcher(pool.slice(0, size), { photos: 1, flip: true, margin: opts.margin });
    for (const t of used) {
      const e = trackEvidence(matcher, t.keys, thresholdFor(t.keys.length));
      if (e.named) named++;
      highest = Math.max(highest, e.similarity);
    }
  }
  return { size, draws, tracks: used.length, named, rate: used.length ? named / (used.length * draws) : 0, highest };
}
