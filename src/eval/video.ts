/**
 * Track-level figures on a video: what a user sees. Given who appears (and, optionally, when), every track that
 * got a decision is counted once: named wrongly if it was ever given a name that is not someone on screen at
 * the time (a person not listed, or outside their listed times), else named correctly if it got a name, else
 * left unknown. Boxes drawn with a name are checked the same way, frame by frame.
 */
import { FacegateError } from '../util/errors.js';

export interface Appearance {
  name: string;
  /** Seconds from the start of the video; null: anywhere in it. */
  ranges: [number, number][] | null;
}

/** "Name" or "Name@0-1.5,3.6-7.7" (seconds). */
export function parseAppearance(spec: string): Appearance {
  const at = spec.lastIndexOf('@');
  const name = (at < 0 ? spec : spec.slice(0, at)).trim();
  if (!name) throw new FacegateError('usage', `--appears needs a name, optionally with @start-end,... seconds (got "${spec}")`);
  if (at < 0) return { name, ranges: null };
  const ranges = spec
    .slice(at + 1)
    .split(',')
    .map((r): [number, number] => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(r);
      if (!m || Number(m[1]) > Number(m[2]))
        throw new FacegateError('usage', `--appears ranges are start-end in seconds, e.g. "${name}@0-1.5,3.6-7.7" (got "${r}")`);
      return [Number(m[1]), Number(m[2])];
    });
  return { name, ranges };
}

export interface TrackSeen {
  track: string;
  /** Seconds from the start at which the track's faces were seen. */
  times: number[];
  /** Names its decisions gave it (new/update events), in order. */
  names: string[];
  /** The track got a decision (named or unknown). */
  decided: boolean;
}

export interface BoxSeen {
  time: number;
  name: string | null;
}

export interface VideoScore {
  tracks: number;
  namedCorrectly: number;
  namedWrongly: number;
  leftUnknown: number;
  boxesNamed: number;
  boxesWrong: number;
  /** Listed people who were named on at least one track. */
  peopleNamed: string[];
  wrong: { track: string; names: string[]; from: number; to: number }[];
}

function onScreen(appears: readonly Appearance[], name: string, time: number): boolean {
  const a = appears.find((x) => x.name === name);
  return Boolean(a && (!a.ranges || a.ranges.some(([s, e]) => time >= s && time <= e)));
}

export function scoreVideo(tracks: readonly TrackSeen[], boxes: readonly BoxSeen[], appears: readonly Appearance[]): VideoScore {
  const out: VideoScore = { tracks: 0, namedCorrectly: 0, namedWrongly: 0, leftUnknown: 0, boxesNamed: 0, boxesWrong: 0, peopleNamed: [], wrong: [] };
  const named = new Set<string>();
  for (const t of tracks) {
    if (!t.decided) continue;
    out.tracks++;
    const bad = t.names.some((n) => !t.times.every((time) => onScreen(appears, n, time)));
    if (bad) {
      out.namedWrongly++;
      out.wrong.push({ track: t.track, names: [...new Set(t.names)], from: Math.min(...t.times), to: Math.max(...t.times) });
    } else if (t.names.length) {
      out.namedCorrectly++;
      t.names.forEach((n) => named.add(n));
    } else out.leftUnknown++;
  }
  for (const b of boxes) {
    if (b.name === null) continue;
    out.boxesNamed++;
    if (!onScreen(appears, b.name, b.time)) out.boxesWrong++;
  }
  out.peopleNamed = [...named].sort();
  return out;
}
