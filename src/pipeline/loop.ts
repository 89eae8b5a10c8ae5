/**
 * The batched recognition loop over all cameras. A tick takes the newest unprocessed frame of every camera,
 * runs ONE engine.analyze over them, ONE matchMany over all faces, then each camera's tracker, and publishes
 * the trackers' decisions on the bus ('recognition') with a snapshot of the track's best face.
 * Ticks are pipelined: while up to engine.parallelism analyses run (one per engine worker), the next tick's frames
 * are already taken, and results are matched, tracked and published strictly in tick order.
 * Track ids carry a run id chosen at start-up (`<camera>-<run>-<n>`), so they never repeat across restarts.
 * Corrections from the page ('correction' on the bus) reach the live track at the next tick.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { FaceEngine, FrameFaces, StageTimes } from '../engine/types.js';
import { LiveMatcher, type SampleSource } from '../match/live.js';
import type { MatchResult } from '../match/matcher.js';
import { trackThresholdFor } from '../match/operating-point.js';
import { trackEvidence, type TrackFace } from '../match/track-evidence.js';
import { frameSignature } from '../track/scene.js';
import { Tracker, type TrackDecision, type TrackInput } from '../track/tracker.js';
import type { Bus, TrackCorrectionEvent } from '../events/bus.js';
import { FacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import type { OperatingPoint, RecognitionEvent } from '../events/types.js';
import { nullObserver, type LatestBox, type LatestFaces, type PipelineObserver } from './observer.js';

export interface FrameSource {
  name: string;
  /** The newest frame not taken yet, or null. `time` is the decode time, ms since the epoch. */
  takeLatest(): { image: RgbImage; seq: number; time: number } | null;
}

export interface LoopFrame {
  camera: string;
  image: RgbImage;
  /** Frame time, ms since the epoch (for files: start time + position). */
  time: number;
  seq?: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface LoopOptions {
  sources: FrameSource[];
  engine: FaceEngine;
  facebank: SampleSource;
  /** The facebank's live matcher, shared with the enrolment service (one index in memory); else the loop builds one. */
  matcher?: LiveMatcher;
  bus: Bus;
  config: Pick<Config, 'pipeline' | 'match' | 'track'>;
  log: Logger;
  observer?: PipelineObserver;
  /** Where best-face snapshots go; without it events carry snapshot null. */
  snapshots?: { save(image: RgbImage): Promise<string | null> };
  /** Called after every tick, idle ones included (watchdog). */
  onTick?: () => void;
  clock?: Clock;
  /** Poll interval when no camera has a new frame (ms). */
  idleMs?: number;
  /** processFrames: frames per analyze call. */
  batchFrames?: number;
  /** Goes into track ids; default: 8 random hex digits per loop. */
  runId?: string;
}

export type { LatestBox, LatestFaces };

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

const seconds = (ms: number) => ms / 1000;

/** One tick's frames and what the engine found in them. */
interface Analyzed {
  frames: readonly LoopFrame[];
  analyzed: FrameFaces[];
  times: StageTimes;
  /** performance.now() when the analysis started. */
  t0: number;
}

export class PipelineLoop {
  private readonly clock: Clock;
  private readonly observer: PipelineObserver;
  private readonly trackers = new Map<string, Tracker>();
  private readonly latest = new Map<string, LatestFaces>();
  private readonly lastSeq = new Map<string, number>();
  /** Track id → snapshot saved for best-face version. */
  private readonly snaps = new Map<string, { version: number; id: string }>();
  private matcher: LiveMatcher | null = null;
  private loggedPoint: OperatingPoint | null = null;
  private readonly corrections: TrackCorrectionEvent[] = [];
  /** Cameras removed or replaced at run time: their tracks end at the next tick. */
  private readonly endedCameras: string[] = [];
  private offCorrections: (() => void) | null = null;
  private runId: string | null = null;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly opts: LoopOptions) {
    this.clock = opts.clock ?? systemClock;
    this.observer = opts.observer ?? nullObserver;
  }

  start(): void {
    if (this.running) return;
    this.listen();
    this.running = true;
    // Build the matcher now, so its operating point is known (metrics) before the first face.
    this.currentMatcher().catch((e: unknown) => this.opts.log.warn({ err: e }, 'pipeline: facebank not readable yet'));
    this.loop = this.run();
  }

  /** Stop after the current tick and end every open track. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.loop = null;
    await this.flush(this.clock.now());
    if (this.matcher !== this.opts.matcher) this.matcher?.close();
    this.matcher = null;
    this.offCorrections?.();
    this.offCorrections = null;
  }

  /** Queue the page's corrections for the trackers (applied in tick order). */
  private listen(): void {
    this.offCorrections ??= this.opts.bus.on('correction', (c) => void this.corrections.push(c));
  }

  /** A camera was removed or replaced: its open tracks end at the next tick; the other cameras' go on. */
  endCamera(camera: string): void {
    this.endedCameras.push(camera);
  }

  /** Apply queued corrections to live tracks; returns the decisions they cause. */
  private takeCorrections(): TrackDecision[] {
    const out: TrackDecision[] = [];
    for (const camera of this.endedCameras.splice(0)) {
      out.push(...(this.trackers.get(camera)?.flush(this.clock.now()) ?? []));
      this.trackers.delete(camera);
      this.latest.delete(camera);
      this.lastSeq.delete(camera);
    }
    for (const c of this.corrections.splice(0)) {
      const t = this.trackers.get(c.camera);
      if (!t) continue;
      const fix = c.kind === 'not-person' ? { kind: c.kind, personId: c.person.id } : { kind: c.kind, person: c.person };
      out.push(...t.correct(c.track, fix, this.clock.now()));
    }
    return out;
  }

  /** Faces of the last processed frame of a camera, for the annotated view. */
  latestFaces(camera: string): LatestFaces | null {
    return this.latest.get(camera) ?? null;
  }

  /** Run frames (in time order) to completion, several per analyze call; returns the events published. */
  async processFrames(frames: readonly LoopFrame[]): Promise<RecognitionEvent[]> {
    this.listen();
    const size = Math.max(1, this.opts.batchFrames ?? 8);
    const out: RecognitionEvent[] = [];
    const inFlight: Promise<Analyzed>[] = [];
    for (let i = 0; i < frames.length || inFlight.length;) {
      if (i < frames.length && inFlight.length < this.depth) {
        const batch = frames.slice(i, i + size);
        i += size;
        const analysis = this.analyzeBatch(batch);
        // Awaited below; the no-op handler keeps a later batch's failure from going unhandled once an earlier one threw.
        analysis.catch(() => {});
        inFlight.push(analysis);
        continue;
      }
      out.push(...(await this.finishBatch(await inFlight.shift()!, false)));
    }
    return out;
  }

  /** Analyses in flight at once: one per engine worker. */
  private get depth(): number {
    return Math.max(1, this.opts.engine.parallelism ?? 1);
  }

  /** End every open track at `time` (end of a file, shutdown); returns the 'end' events published. */
  async flush(time: number): Promise<RecognitionEvent[]> {
    const decisions = [...this.trackers.values()].flatMap((t) => t.flush(time));
    return this.publish(decisions, false);
  }

  private async run(): Promise<void> {
    const idle = this.opts.idleMs ?? 10;
    // Analyses in tick order; each settles to its result or to null when it failed (logged).
    const inFlight: { settled: boolean; result: Promise<Analyzed | null> }[] = [];
    while (this.running || inFlight.length) {
      const frames = this.running && inFlight.length < this.depth ? this.collect() : [];
      if (frames.length) {
        const entry = { settled: false, result: Promise.resolve<Analyzed | null>(null) };
        entry.result = this.analyzeBatch(frames).then(
          (a) => ((entry.settled = true), a),
          (e: unknown) => (this.opts.log.error({ err: e }, 'pipeline: tick failed'), (entry.settled = true), null),
        );
        inFlight.push(entry);
        if (inFlight.length < this.depth) continue;
      }
      if (inFlight.length) {
        // The oldest analysis, or a short wait when a worker is still free for the next frames.
        if (inFlight.length < this.depth && this.running) await Promise.race([inFlight[0]!.result, this.clock.sleep(idle)]);
        else await inFlight[0]!.result;
        while (inFlight[0]?.settled) {
          const done = await inFlight.shift()!.result;
          if (!done) continue;
          try {
            await this.finishBatch(done, true);
          } catch (e) {
            this.opts.log.error({ err: e }, 'pipeline: tick failed');
          }
        }
      } else {
        await this.clock.sleep(idle);
      }
      try {
        // Cameras that went quiet: their tracks still end on time.
        await this.publish([...this.takeCorrections(), ...[...this.trackers.values()].flatMap((t) => t.endStale(this.clock.now()))], true);
      } catch (e) {
        this.opts.log.error({ err: e }, 'pipeline: ending tracks failed');
      }
      try {
        this.opts.onTick?.();
      } catch (e) {
        this.opts.log.warn({ err: e }, 'pipeline: onTick failed');
      }
    }
  }

  /** The newest unprocessed frame of every camera; counts frames skipped by seq gaps. */
  private collect(): LoopFrame[] {
    const frames: LoopFrame[] = [];
    for (const s of this.opts.sources) {
      let f: ReturnType<FrameSource['takeLatest']>;
      try {
        f = s.takeLatest();
      } catch (e) {
        this.opts.log.warn({ err: e, camera: s.name }, 'pipeline: camera frame unavailable');
        continue;
      }
      if (!f) continue;
      const prev = this.lastSeq.get(s.name);
      if (prev !== undefined && f.seq > prev + 1) this.observer.framesDropped(s.name, f.seq - prev - 1);
      this.lastSeq.set(s.name, f.seq);
      frames.push({ camera: s.name, image: f.image, time: f.time, seq: f.seq });
    }
    return frames;
  }

  private async currentMatcher() {
    const { engine, facebank, bus, config } = this.opts;
    this.matcher ??= this.opts.matcher ?? new LiveMatcher(facebank, bus, engine.embedderId, config.match, engine.defaultThreshold, engine.detectorId);
    const m = await this.matcher.current();
    this.logPoint(this.matcher.operatingPoint);
    return m;
  }

  /** Logs the operating point when it changes; past the rule's largest measured size, as a warning that says so. */
  private logPoint(p: OperatingPoint | null): void {
    if (!p || p === this.loggedPoint) return;
    this.loggedPoint = p;
    const fields = { threshold: p.threshold, trackThresholds: p.trackThresholds, people: p.people, targetFpir: p.targetFpir, source: p.source, rule: p.rule };
    if (p.extrapolated)
      this.opts.log.warn(
        { ...fields, largestMeasured: p.largestMeasured },
        `match: ${p.people} people enrolled, more than the ${p.largestMeasured} the open-set rule was measured with; its thresholds are extrapolated`,
      );
    else this.opts.log.info(fields, 'match: operating point');
  }

  private tracker(camera: string): Tracker {
    let t = this.trackers.get(camera);
    this.runId ??= this.opts.runId ?? randomBytes(4).toString('hex');
    if (!t) this.trackers.set(camera, (t = new Tracker(camera, this.opts.config.track, this.runId)));
    return t;
  }

  /** analyze, for frames in time order (a camera may appear more than once). */
  private async analyzeBatch(frames: readonly LoopFrame[]): Promise<Analyzed> {
    for (const f of frames) {
      if (!Number.isFinite(f.time)) throw new FacegateError('invalid', `Frame of camera ${f.camera} has no valid time.`);
    }
    const { engine, config } = this.opts;
    const t0 = performance.now();
    const times: StageTimes = { detect: 0, align: 0, embed: 0 };
    const analyzed = frames.length
      ? await engine.analyze(
          frames.map((f) => f.image),
          config.pipeline.quality,
          times,
        )
      : [];
    return { frames, analyzed, times, t0 };
  }

  /** match → track → publish for an analysed batch; batches must come in the order they were taken. */
  private async finishBatch({ frames, analyzed, times, t0 }: Analyzed, live: boolean): Promise<RecognitionEvent[]> {
    if (!frames.length) return [];
    const matcher = await this.currentMatcher();
    const point = this.matcher?.operatingPoint ?? null;
    // A track is named from its key faces at the track threshold for that many (match/track-evidence.ts).
    const judge = (keys: readonly TrackFace[]) => trackEvidence(matcher, keys, point ? trackThresholdFor(point, keys.length) : matcher.options.threshold);
    const t1 = performance.now();
    this.observer.stage('detect', times.detect);
    this.observer.stage('align', times.align);
    this.observer.stage('embed', times.embed);
    this.observer.batch('detector', frames.length);
    const embeddings = analyzed.flatMap((r) => r.faces.map((f) => f.embedding));
    if (embeddings.length) this.observer.batch('embedder', embeddings.length);
    this.observer.faces(embeddings.length);
    const matches: MatchResult[] = matcher.matchMany(embeddings);
    const t2 = performance.now();
    this.observer.stage('match', seconds(t2 - t1));

    const decisions: TrackDecision[] = this.takeCorrections();
    let k = 0;
    frames.forEach((f, i) => {
      const r = analyzed[i] ?? { faces: [], rejected: [] };
      const inputs: TrackInput[] = [
        ...r.faces.map((face) => ({
          box: face.box,
          quality: face.quality,
          face: { aligned: face.aligned, embedding: face.embedding },
          match: matches[k++]!,
          support: (personId: string) => matcher.similarityTo(face.embedding, personId),
          judge,
        })),
        ...r.rejected.map((rj) => ({ box: rj.box, quality: rj.quality })),
      ];
      const u = this.tracker(f.camera).update(f.time, inputs, frameSignature(f.image));
      decisions.push(...u.decisions);
      const latest: LatestFaces = {
        time: f.time,
        image: f.image,
        boxes: inputs.map((inp, j) => ({
          box: inp.box,
          name: u.names[j] ?? null,
          label: u.names[j] ?? null,
          similarity: u.similarities[j] ?? null,
          track: u.tracks[j] ?? null,
        })),
      };
      this.latest.set(f.camera, latest);
      this.observer.frame?.(f.camera, latest);
    });
    this.observer.stage('track', seconds(performance.now() - t2));
    const events = await this.publish(decisions, live);
    this.observer.stage('tick', seconds(performance.now() - t0));
    return events;
  }

  private async snapshotFor(d: TrackDecision): Promise<string | null> {
    const had = this.snaps.get(d.track);
    if (!this.opts.snapshots) return null;
    if (!d.best) return had?.id ?? null;
    if (had && had.version === d.best.version) return had.id;
    try {
      const id = await this.opts.snapshots.save(d.best.aligned);
      if (id === null) return had?.id ?? null; // the disk is full: reported by the snapshot store
      this.snaps.set(d.track, { version: d.best.version, id });
      return id;
    } catch (e) {
      this.opts.log.warn({ err: e, track: d.track }, 'pipeline: snapshot not saved');
      return had?.id ?? null;
    }
  }

  private async publish(decisions: readonly TrackDecision[], live: boolean): Promise<RecognitionEvent[]> {
    const out: RecognitionEvent[] = [];
    for (const d of decisions) {
      const snapshot = await this.snapshotFor(d);
      if (d.type === 'end') this.snaps.delete(d.track);
      const publish = this.clock.now();
      const ev: RecognitionEvent = {
        type: d.type,
        id: randomUUID(),
        camera: d.camera,
        track: d.track,
        person: d.person ? { id: d.person.id, name: d.person.name } : null,
        similarity: d.similarity,
        confidence: d.confidence,
        box: [d.box[0], d.box[1], d.box[2], d.box[3]],
        quality: { ...d.quality },
        frameTime: new Date(d.time).toISOString(),
        publishTime: new Date(publish).toISOString(),
        snapshot,
        ...(d.duration !== undefined ? { duration: d.duration } : {}),
      };
      this.opts.bus.emit('recognition', ev, { embedding: d.best?.embedding ?? null });
      if (live && d.type !== 'end') this.observer.eventLatency(Math.max(0, seconds(publish - d.time)));
      out.push(ev);
    }
    return out;
  }
}
