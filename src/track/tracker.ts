/**
 * Pure per-camera tracker, driven by frame time (ms) so it is deterministic.
 *
 * Association: greedy by IoU (≥ track.iou, highest first), then, for what is left, by centre distance
 * (≤ one box side, areas within 2.25×). Gated-out detections (no embedding) only keep a track alive;
 * only embedded faces start tracks.
 * Voting: each embedded frame votes for its matched person (or "no confident match") with weight
 * qualityWeight(). A person is named once they have ≥ confirmFrames matched frames AND more than half the
 * weight of all person votes (a tie names nobody). A track is declared unknown after unknownFrames frames
 * without a confident match, or when two people tie with ≥ confirmFrames frames each. A name, once given,
 * is only replaced by another name.
 * Events: 'new' at the first decision, 'update' when the decision changes or the named person's best similarity
 * rises by ≥ 0.05 (at most once a second), 'end' after endAfterSeconds unseen. Undecided tracks end silently.
 */
import type { TrackConfig } from '../config/schema.js';
import type { MatchResult } from '../match/matcher.js';
import type { PersonRef } from '../pipeline/events.js';
import type { Box, FaceQuality, RgbImage } from '../vision/types.js';
import { centreDistance, iou, sizeRatio } from './geometry.js';

export const IMPROVE_STEP = 0.05;
export const IMPROVE_INTERVAL_MS = 1000;
const CENTRE_MAX = 1.0;
const AREA_RATIO_MAX = 2.25;

export interface TrackInput {
  box: Box;
  quality: FaceQuality;
  /** Present for embedded faces; absent for detections the quality gate rejected. */
  face?: { aligned: RgbImage; embedding: Float32Array };
  /** The matcher's result for `face`. */
  match?: MatchResult;
}

export interface BestFace {
  aligned: RgbImage;
  embedding: Float32Array;
  box: Box;
  quality: FaceQuality;
  weight: number;
  time: number;
  /** Goes up each time the best face is replaced (to know when a new snapshot is due). */
  version: number;
}

export interface TrackDecision {
  type: 'new' | 'update' | 'end';
  track: string;
  camera: string;
  person: PersonRef | null;
  similarity: number | null;
  confidence: number;
  box: Box;
  quality: FaceQuality;
  /** Frame time (ms) the decision was made on. */
  time: number;
  /** Seconds from first to last sighting ('end' only). */
  duration?: number;
  best: BestFace | null;
}

export interface TrackUpdate {
  decisions: TrackDecision[];
  /** Per input: the track it joined (null for a rejected detection that joined none). */
  tracks: (string | null)[];
  /** Per input: the track's decided person (null: unknown or undecided). */
  names: (string | null)[];
}

const clamp01 = (x: number) => (x > 1 ? 1 : x > 0 ? x : 0);
const rad = Math.PI / 180;

/**
 * Vote weight of one face, 0.001..1: detector score × min(size/112, 1) × min(blur/100, 1) × cos(yaw) × cos(pitch).
 * 112 px is the embedder's input side; blur 100 is a sharp aligned crop.
 */
export function qualityWeight(q: FaceQuality): number {
  const frontal = clamp01(Math.cos(q.yaw * rad)) * clamp01(Math.cos(q.pitch * rad));
  const w = clamp01(q.score) * clamp01(q.size / 112) * clamp01(q.blur / 100) * frontal;
  return Number.isFinite(w) ? Math.max(w, 0.001) : 0.001;
}

interface Vote {
  person: PersonRef;
  weight: number;
  frames: number;
  best: number;
}

interface Decided {
  person: PersonRef | null;
  similarity: number | null;
  confidence: number;
}

interface Track {
  id: string;
  box: Box;
  quality: FaceQuality;
  firstSeen: number;
  lastSeen: number;
  votes: Map<string, Vote>;
  noMatchWeight: number;
  noMatchFrames: number;
  /** Highest similarity to anyone on frames without a confident match. */
  nearest: number | null;
  decided: Decided | null;
  lastEmitTime: number;
  lastEmitSimilarity: number | null;
  best: BestFace | null;
}

export class Tracker {
  private readonly tracks: Track[] = [];
  private next = 1;

  constructor(
    readonly camera: string,
    private readonly config: TrackConfig,
  ) {}

  /** Open tracks (for tests and the web page). */
  get size(): number {
    return this.tracks.length;
  }

  /** One frame's faces at frame time `time` (ms). */
  update(time: number, inputs: readonly TrackInput[]): TrackUpdate {
    const decisions = this.expire(time);
    const owner = this.associate(inputs);
    const tracks: (string | null)[] = [];
    const names: (string | null)[] = [];
    inputs.forEach((input, i) => {
      let t = owner[i];
      if (!t && input.face) {
        t = this.open(input, time);
      }
      if (!t) {
        tracks.push(null);
        names.push(null);
        return;
      }
      t.box = input.box;
      t.quality = input.quality;
      t.lastSeen = time;
      if (input.face && input.match) {
        const d = this.vote(t, input, time);
        if (d) decisions.push(d);
      }
      tracks.push(t.id);
      names.push(t.decided?.person?.name ?? null);
    });
    return { decisions, tracks, names };
  }

  /** End every open track (end of a file, shutdown). */
  flush(time: number): TrackDecision[] {
    return this.expire(time, true);
  }

  /** End tracks unseen for endAfterSeconds at `time` (also done by update()). */
  endStale(time: number): TrackDecision[] {
    return this.expire(time);
  }

  private expire(time: number, all = false): TrackDecision[] {
    const out: TrackDecision[] = [];
    const limit = this.config.endAfterSeconds * 1000;
    for (let i = this.tracks.length - 1; i >= 0; i--) {
      const t = this.tracks[i]!;
      if (!all && time - t.lastSeen < limit) continue;
      this.tracks.splice(i, 1);
      if (t.decided) out.push({ ...this.decision('end', t, time), duration: (t.lastSeen - t.firstSeen) / 1000 });
    }
    return out.reverse();
  }

  private associate(inputs: readonly TrackInput[]): (Track | undefined)[] {
    const owner: (Track | undefined)[] = new Array(inputs.length);
    const taken = new Set<Track>();
    const pairs: { t: Track; i: number; v: number }[] = [];
    for (const t of this.tracks) {
      inputs.forEach((input, i) => {
        const v = iou(t.box, input.box);
        if (v >= this.config.iou && v > 0) pairs.push({ t, i, v });
      });
    }
    pairs.sort((a, b) => b.v - a.v);
    const take = (p: { t: Track; i: number }) => {
      if (taken.has(p.t) || owner[p.i]) return;
      owner[p.i] = p.t;
      taken.add(p.t);
    };
    pairs.forEach(take);
    const near: { t: Track; i: number; v: number }[] = [];
    for (const t of this.tracks) {
      if (taken.has(t)) continue;
      inputs.forEach((input, i) => {
        if (owner[i]) return;
        const v = centreDistance(t.box, input.box);
        if (v <= CENTRE_MAX && sizeRatio(t.box, input.box) <= AREA_RATIO_MAX) near.push({ t, i, v });
      });
    }
    near.sort((a, b) => a.v - b.v);
    near.forEach(take);
    return owner;
  }

  private open(input: TrackInput, time: number): Track {
    const t: Track = {
      id: `${this.camera}-${this.next++}`,
      box: input.box,
      quality: input.quality,
      firstSeen: time,
      lastSeen: time,
      votes: new Map(),
      noMatchWeight: 0,
      noMatchFrames: 0,
      nearest: null,
      decided: null,
      lastEmitTime: -Infinity,
      lastEmitSimilarity: null,
      best: null,
    };
    this.tracks.push(t);
    return t;
  }

  /** Count one embedded frame; return the decision it causes, if any. */
  private vote(t: Track, input: TrackInput, time: number): TrackDecision | null {
    const m = input.match!;
    const w = qualityWeight(input.quality);
    if (!t.best || w > t.best.weight) {
      const f = input.face!;
      t.best = { aligned: f.aligned, embedding: f.embedding, box: input.box, quality: input.quality, weight: w, time, version: (t.best?.version ?? 0) + 1 };
    }
    if (m.person) {
      const v = t.votes.get(m.person.id) ?? { person: m.person, weight: 0, frames: 0, best: -1 };
      v.person = m.person;
      v.weight += w;
      v.frames++;
      v.best = Math.max(v.best, m.similarity);
      t.votes.set(m.person.id, v);
    } else {
      t.noMatchWeight += w;
      t.noMatchFrames++;
      if (m.reason !== 'empty') t.nearest = Math.max(t.nearest ?? -1, m.similarity);
    }
    const next = this.judge(t);
    if (!next) return null;
    const prev = t.decided;
    if (!prev) {
      t.decided = next;
      return this.emit('new', t, time);
    }
    if ((prev.person?.id ?? null) !== (next.person?.id ?? null)) {
      t.decided = next;
      return this.emit('update', t, time);
    }
    t.decided = next;
    const s = next.similarity;
    if (next.person && s !== null && t.lastEmitSimilarity !== null && s >= t.lastEmitSimilarity + IMPROVE_STEP && time - t.lastEmitTime >= IMPROVE_INTERVAL_MS) {
      return this.emit('update', t, time);
    }
    return null;
  }

  /** The decision the votes support now, or null to keep the current one. */
  private judge(t: Track): Decided | null {
    let named = 0;
    let lead: Vote | null = null;
    let tie = false;
    for (const v of t.votes.values()) {
      named += v.weight;
      if (!lead || v.weight > lead.weight) {
        lead = v;
        tie = false;
      } else if (v.weight === lead.weight) tie = true;
    }
    const total = named + t.noMatchWeight;
    if (lead && !tie && lead.frames >= this.config.confirmFrames && lead.weight > named / 2) {
      return { person: lead.person, similarity: lead.best, confidence: lead.weight / total };
    }
    if (t.decided?.person) return null;
    const deadlock = tie && [...t.votes.values()].filter((v) => v.weight === lead!.weight && v.frames >= this.config.confirmFrames).length >= 2;
    if (t.noMatchFrames >= this.config.unknownFrames || deadlock) {
      return { person: null, similarity: t.nearest, confidence: total > 0 ? (deadlock ? 1 - lead!.weight / total : t.noMatchWeight / total) : 0 };
    }
    return null;
  }

  private emit(type: 'new' | 'update', t: Track, time: number): TrackDecision {
    t.lastEmitTime = time;
    t.lastEmitSimilarity = t.decided!.similarity;
    return this.decision(type, t, time);
  }

  private decision(type: TrackDecision['type'], t: Track, time: number): TrackDecision {
    const d = t.decided!;
    return { type, track: t.id, camera: this.camera, person: d.person, similarity: d.similarity, confidence: d.confidence, box: t.box, quality: t.quality, time, best: t.best };
  }
}
