/**
 * The one owner of "the current operating point": the threshold the live matcher names people at with the facebank
 * as it is now (match/operating-point.ts, the same function and inputs match/live.ts uses), with N, the target
 * FPIR and where it comes from. The page, the API, capture, clustering, the look-alike checks and `compare` ask
 * it, so the number shown is the number used. In the appliance it is the live matcher's own point; a CLI job
 * without one counts the people enrolled once per facebank change.
 */
import { enrolledPeople, operatingPoint, type OperatingConfig, type OperatingPoint } from '../match/operating-point.js';
import type { LiveMatcher } from '../match/live.js';
import type { Sample } from '../store/types.js';

export type { OperatingPoint };

/** What the point depends on besides the facebank: the running embedder and its 1:1 threshold. */
export interface EmbedderFacts {
  embedderId: string;
  defaultThreshold: number;
  /** The detector's id: picks the detector + embedder pair's open-set rule, as the live matcher does. */
  detectorId?: string;
}

export interface ExplainedPoint extends OperatingPoint {
  /** The point in words for a person (shown on the page). */
  sentence: string;
}

type MaybePromise<T> = T | Promise<T>;

export class OperatingPointSource {
  /** The last count: for the facebank at `seq` and model `modelId`. */
  private counted: { seq: number; modelId: string; people: number } | null = null;

  constructor(
    private readonly facebank: { samples(): MaybePromise<readonly Pick<Sample, 'personId' | 'modelId' | 'negative'>[]>; readonly seq?: number },
    private readonly match: OperatingConfig,
    private readonly embedder: () => EmbedderFacts,
    /** The live matcher, when there is one: its point is the one shown. */
    private readonly live?: () => LiveMatcher,
  ) {}

  /** The point for the facebank as it is now. */
  async current(): Promise<ExplainedPoint> {
    const live = this.live?.();
    if (live) {
      await live.current();
      const point = live.operatingPoint!;
      return { ...point, sentence: explainPoint(point) };
    }
    const e = this.embedder();
    const point = operatingPoint(this.match, e.embedderId, e.defaultThreshold, await this.enrolled(e.embedderId), e.detectorId);
    return { ...point, sentence: explainPoint(point) };
  }

  /** People enrolled for the model, counted again only after the facebank changed. */
  private async enrolled(modelId: string): Promise<number> {
    const seq = this.facebank.seq;
    const c = this.counted;
    if (c && seq !== undefined && c.seq === seq && c.modelId === modelId) return c.people;
    const people = enrolledPeople(await this.facebank.samples(), modelId);
    if (seq !== undefined) this.counted = { seq, modelId, people };
    return people;
  }
}
/** One formatter (toLocaleString builds a new one on every call, about a millisecond each). */
const thousands = new Intl.NumberFormat('en-US');
const count = (n: number) => thousands.format(n);

/** "A face gets a name when it is at least 59 % alike one person's photos (set for 100 people enrolled, so …)". */
export function explainPoint(p: OperatingPoint): string {
  const pct = `${Math.round(p.threshold * 100)} %`;
  const head = `A face gets a name when it is at least ${pct} alike one person's photos`;
  const who = `${count(p.people)} ${p.people === 1 ? 'person' : 'people'} enrolled`;
  if (p.source === 'config') return `${head} (set by match.threshold in the configuration; ${who}).`;
  if (p.source === 'one-to-one' || !p.targetFpir)
    return `${head} (the face model's own threshold, where about 1 comparison of two strangers in 1,000 looks alike; ${who}).`;
  const tracks = p.trackThresholds?.length
    ? ` Someone followed across frames is named from their different views together (their mean face), at ${Math.round(p.trackThresholds.at(-1)! * 100)} % or more.`
    : '';
  const beyond =
    p.extrapolated && p.largestMeasured
      ? ` More people are enrolled than this was measured with (${count(p.largestMeasured)}), so the figure is extrapolated and strangers may be misnamed more often.`
      : '';
  return `${head} (set for ${who}, so about 1 stranger in ${count(Math.round(1 / p.targetFpir))} is misnamed).${tracks}${beyond}`;
}
