/**
 * Pure per-camera tracker, driven by frame time (ms) so it is deterministic. Tracks follow faces, not boxes.
 *
 * Association: greedy by IoU (≥ track.iou, highest first), then, for what is left, by centre distance
 * (≤ one box side, areas within 2.25×), and for embedded faces only when the face looks like the track: cosine
 * ≥ track.appearance to one of the track's last RECENT embedded faces. A track whose place (IoU ≥ track.iou) is
 * taken by a face that does not look like it ends there and then; that face starts its own track.
 * Gated-out detections (no embedding) only keep a track alive and are never drawn with its name; only embedded
 * faces start tracks. A scene cut (the frame's colour layout jumps, see scene.ts) or time going backwards ends
 * every track.
 * Naming from all the evidence (inputs with `judge`, as the pipeline gives): the track keeps its key faces (keys.ts,
 * different looks) and is named when their mean face is as alike the top person as the per-track threshold for
 * that many keys and the margin rule holds (match/track-evidence.ts), once it has confirmFrames faces; unknown
 * after unknownFrames faces without. Its faces are then held to that threshold on their own scale (drawing,
 * dropFrames).
 * Voting (inputs without `judge`): each embedded frame votes for its matched person (or "no confident match") with weight
 * qualityWeight(). A person is named once they have ≥ confirmFrames matched frames AND more than half the
 * weight of all person votes (a tie names nobody). A track is declared unknown after unknownFrames frames
 * without a confident match, or when two people tie with ≥ confirmFrames frames each. Votes replace a name only
 * with another name; a named track loses its name (an update to unknown, votes cleared) after dropFrames faces
 * in a row clearly under its person's threshold (by more than dropMargin). A correction ("not this person",
 * "this is X") changes a live track's decision at once, and the person it rules out gets no more votes there.
 * Events: 'new' at the first decision, 'update' when the decision changes or the named person's best similarity
 * rises by ≥ 0.05 (at most once a second), 'end' after endAfterSeconds unseen. Undecided tracks end silently.
 */
import type { TrackConfig } from '../config/schema.js';
import type { MatchResult } from '../match/matcher.js';
import type { TrackEvidence, TrackFace } from '../match/track-evidence.js';
import type { PersonRef } from '../events/types.js';
import type { Box, FaceQuality, RgbImage } from '../vision/types.js';
import { centreDistance, iou, sizeRatio } from './geometry.js';
import { signatureDistance } from './scene.js';
import { addKey } from './keys.js';

export const IMPROVE_STEP = 0.05;
export const IMPROVE_INTERVAL_MS = 1000;
const CENTRE_MAX = 1.0;
const AREA_RATIO_MAX = 2.25;
/** Embedded faces a track remembers for the appearance check. */
const RECENT = 5;

export interface TrackInput {
  box: Box;
  quality: FaceQuality;
  /** Present for embedded faces; absent for detections the quality gate rejected. */
  face?: { aligned: RgbImage; embedding: Float32Array };
  /** The matcher's result for `face`. */
  match?: MatchResult;
  /** Best-of similarity of `face` to one person (the track's); without it, the match's own similarity is used. */
  support?: (personId: string) => number;
  /**
   * Names a track from its key faces (match/track-evidence.ts at the track threshold for that many keys). With it
   * the track is named from all its evidence; without it, by per-face votes.
   */
  judge?: (keys: readonly TrackFace[]) => TrackEvidence;
}

/** A correction from the page, applied to a live track. */
export type TrackCorrection = { kind: 'not-person'; personId: string } | { kind: 'reassigned'; person: PersonRef };

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
  /** Per input: the track's decided person when this face supports it (null: unknown, undecided, gated out, or unsupported). */
  names: (string | null)[];
  /** Per input: the face's similarity to the named person, else to its nearest person (null: not embedded). */
  similarities: (number | null)[];
  /** A scene cut was seen on this frame. */
  cut: boolean;
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
  /** Normalised embeddings of the last RECENT embedded faces. */
  recent: Float32Array[];
  /** Faces in a row clearly under the named person's threshold. */
  below: number;
  /** People ruled out by a correction: their matches count as "no confident match". */
  excluded: Set<string>;
  /** Different looks of the face (keys.ts), the evidence a judged track is named from. */
  keys: TrackFace[];
  /** Embedded faces seen. */
  faces: number;
  /** The track threshold its name was given at, on the faces' scale (judged tracks); faces are held to it instead of the per-face one. */
  threshold?: number;
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const inv = n > 0 && Number.isFinite(n) ? 1 / Math.sqrt(n) : 0;
  return Float32Array.from(v, (x) => x * inv);
}

function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -1;
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
}

export class Tracker {
  private readonly tracks: Track[] = [];
  private next = 1;
  private lastTime = -Infinity;
  private lastScene: Float32Array | null = null;

  /** `run` goes into track ids (`<camera>-<run>-<n>`), so ids stay unique across restarts. */
  constructor(
    readonly camera: string,
    private readonly config: TrackConfig,
    private readonly run = '',
  ) {}

  /** Open tracks (for tests and the web page). */
  get size(): number {
    return this.tracks.length;
  }

  /** One frame's faces at frame time `time` (ms); `scene` is the frame's signature (scene.ts) for cut detection. */
  update(time: number, inputs: readonly TrackInput[], scene?: Float32Array): TrackUpdate {
    const decisions = this.expire(time);
    const cut = this.isCut(time, scene);
    if (cut) decisions.push(...this.expire(time, true));
    const { owner, displaced } = this.associate(inputs);
    for (const t of displaced) decisions.push(...this.end(t, time));
    const tracks: (string | null)[] = [];
    const names: (string | null)[] = [];
    const similarities: (number | null)[] = [];
    inputs.forEach((input, i) => {
      let t = owner[i];
      if (!t && input.face) {
        t = this.open(input, time);
      }
      similarities.push(input.match && input.match.reason !== 'empty' ? input.match.similarity : null);
      if (!t) {
        tracks.push(null);
        names.push(null);
        return;
      }
      t.box = input.box;
      t.quality = input.quality;
      t.lastSeen = time;
      if (input.face) {
        t.recent.push(unit(input.face.embedding));
        if (t.recent.length > RECENT) t.recent.shift();
      }
      if (input.face && input.match) {
        const d = this.vote(t, input, time);
        if (d) decisions.push(d);
      }
      tracks.push(t.id);
      // A name is drawn only on an embedded face that supports it.
      const who = t.decided?.person;
      if (who && input.face && input.match) {
        const s = this.supportOf(input, who.id);
        similarities[i] = s;
        names.push(s >= (t.threshold ?? input.match.threshold) - this.config.dropMargin ? who.name : null);
      } else names.push(null);
    });
    return { decisions, tracks, names, similarities, cut };
  }

  /** End every open track (end of a file, shutdown). */
  flush(time: number): TrackDecision[] {
    return this.expire(time, true);
  }

  /** End tracks unseen for endAfterSeconds at `time` (also done by update()). */
  endStale(time: number): TrackDecision[] {
    return this.expire(time);
  }

  /** Apply a correction to a live track; returns the 'update' it causes (none when the track is gone or unchanged). */
  correct(track: string, c: TrackCorrection, time: number): TrackDecision[] {
    const t = this.tracks.find((x) => x.id === track);
    if (!t) return [];
    const prev = t.decided?.person?.id ?? null;
    if (c.kind === 'not-person') {
      t.excluded.add(c.personId);
      t.votes.delete(c.personId);
      if (prev !== c.personId) return [];
      t.decided = { person: null, similarity: t.nearest, confidence: 1 };
    } else {
      if (prev === c.person.id) return [];
      if (prev) t.excluded.add(prev);
      t.excluded.delete(c.person.id);
      const weight = [...t.votes.values()].reduce((a, v) => a + v.weight, t.noMatchWeight) + 1;
      t.votes.clear();
      t.votes.set(c.person.id, { person: c.person, weight, frames: this.config.confirmFrames, best: -1 });
      t.decided = { person: c.person, similarity: null, confidence: 1 };
    }
    t.below = 0;
    return [this.emit('update', t, time)];
  }

  private isCut(time: number, scene: Float32Array | undefined): boolean {
    const back = time < this.lastTime;
    this.lastTime = time;
    const prev = this.lastScene;
    if (scene) this.lastScene = scene;
    if (back) return true;
    return Boolean(scene && prev && this.config.sceneCut < 1 && signatureDistance(prev, scene) > this.config.sceneCut);
  }

  private end(t: Track, time: number): TrackDecision[] {
    const i = this.tracks.indexOf(t);
    if (i >= 0) this.tracks.splice(i, 1);
    return t.decided ? [{ ...this.decision('end', t, time), duration: (t.lastSeen - t.firstSeen) / 1000 }] : [];
  }

  private expire(time: number, all = false): TrackDecision[] {
    const out: TrackDecision[] = [];
    const limit = this.config.endAfterSeconds * 1000;
    for (let i = this.tracks.length - 1; i >= 0; i--) {
      const t = this.tracks[i]!;
      if (!all && time - t.lastSeen < limit) continue;
      out.push(...this.end(t, time));
    }
    return out.reverse();
  }

  /** Whether an input looks like the track's recent faces (inputs without an embedding: no evidence, yes). */
  private looksLike(t: Track, input: TrackInput): boolean {
    if (!input.face || !t.recent.length) return true;
    const q = unit(input.face.embedding);
    return t.recent.some((r) => dot(r, q) >= this.config.appearance);
  }

  private associate(inputs: readonly TrackInput[]): { owner: (Track | undefined)[]; displaced: Track[] } {
    const owner = new Array<Track | undefined>(inputs.length);
    const taken = new Set<Track>();
    const conflicted = new Set<Track>();
    const pairs: { t: Track; i: number; v: number }[] = [];
    for (const t of this.tracks) {
      inputs.forEach((input, i) => {
        const v = iou(t.box, input.box);
        if (!(v >= this.config.iou && v > 0)) return;
        if (this.looksLike(t, input)) pairs.push({ t, i, v });
        else conflicted.add(t);
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
      if (taken.has(t) || conflicted.has(t)) continue;
      inputs.forEach((input, i) => {
        if (owner[i]) return;
        const v = centreDistance(t.box, input.box);
        if (v <= CENTRE_MAX && sizeRatio(t.box, input.box) <= AREA_RATIO_MAX && this.looksLike(t, input)) near.push({ t, i, v });
      });
    }
    near.sort((a, b) => a.v - b.v);
    near.forEach(take);
    // A face that is not the track's took its place: that identity has left.
    return { owner, displaced: [...conflicted].filter((t) => !taken.has(t)) };
  }

  private open(input: TrackInput, time: number): Track {
    const t: Track = {
      id: this.run ? `${this.camera}-${this.run}-${this.next++}` : `${this.camera}-${this.next++}`,
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
      recent: [],
      below: 0,
      excluded: new Set(),
      keys: [],
      faces: 0,
    };
    this.tracks.push(t);
    return t;
  }

  /** The face's similarity to a person: the matcher's own figure when given, else the match's similarity. */
  private supportOf(input: TrackInput, personId: string): number {
    return input.support ? input.support(personId) : input.match!.similarity;
  }

  /** Count one embedded frame; return the decision it causes, if any. */
  private vote(t: Track, input: TrackInput, time: number): TrackDecision | null {
    const m = input.match!;
    const w = qualityWeight(input.quality);
    if (!t.best || w > t.best.weight) {
      const f = input.face!;
      t.best = { aligned: f.aligned, embedding: f.embedding, box: input.box, quality: input.quality, weight: w, time, version: (t.best?.version ?? 0) + 1 };
    }
    if (m.person && !t.excluded.has(m.person.id)) {
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
    const named = t.decided?.person;
    if (named) {
      const s = this.supportOf(input, named.id);
      t.below = s < (t.threshold ?? m.threshold) - this.config.dropMargin ? t.below + 1 : 0;
      if (t.below >= this.config.dropFrames) {
        // The face no longer looks like the person: the name goes, and the track earns a new decision.
        t.votes.clear();
        t.noMatchWeight = 0;
        t.noMatchFrames = 0;
        t.nearest = s;
        t.below = 0;
        t.decided = { person: null, similarity: s, confidence: 1 };
        return this.emit('update', t, time);
      }
    }
    const next = input.judge ? this.judgeEvidence(t, input) : this.judge(t);
    if (!next) return null;
    const prev = t.decided;
    if (!prev) {
      t.decided = next;
      return this.emit('new', t, time);
    }
    if ((prev.person?.id ?? null) !== (next.person?.id ?? null)) {
      t.decided = next;
      t.below = 0;
      return this.emit('update', t, time);
    }
    t.decided = next;
    const s = next.similarity;
    if (
      next.person &&
      s !== null &&
      t.lastEmitSimilarity !== null &&
      s >= t.lastEmitSimilarity + IMPROVE_STEP &&
      time - t.lastEmitTime >= IMPROVE_INTERVAL_MS
    ) {
      return this.emit('update', t, time);
    }
    return null;
  }
  /**
   * The decision the track's key faces support now, or null to keep the current one: named when the evidence
   * names someone not ruled out and the track has confirmFrames faces; unknown after unknownFrames faces without.
   */
  private judgeEvidence(t: Track, input: TrackInput): Decided | null {
    t.faces++;
    addKey(t.keys, { embedding: unit(input.face!.embedding), weight: qualityWeight(input.quality) });
    const e = input.judge!(t.keys);
    const who = e.candidate?.person;
    const agree = who ? (t.votes.get(who.id)?.weight ?? 0) : 0;
    const total = [...t.votes.values()].reduce((a, v) => a + v.weight, t.noMatchWeight);
    if (e.named && who && !t.excluded.has(who.id) && t.faces >= this.config.confirmFrames) {
      t.threshold = e.faceThreshold;
      return { person: who, similarity: e.similarity, confidence: total > 0 ? agree / total : 0 };
    }
    if (t.decided?.person) return null;
    if (t.faces >= this.config.unknownFrames)
      return { person: null, similarity: e.similarity > -1 ? e.similarity : t.nearest, confidence: total > 0 ? 1 - agree / total : 0 };
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
      return { person: lead.person, similarity: lead.best > -1 ? lead.best : null, confidence: lead.weight / total };
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
    return {
      type,
      track: t.id,
      camera: this.camera,
      person: d.person,
      similarity: d.similarity,
      confidence: d.confidence,
      box: t.box,
      quality: t.quality,
      time,
      best: t.best,
    };
  }
}
