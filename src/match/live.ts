/**
 * A matcher that follows the facebank: marked stale on 'facebankChanged', rebuilt on next use. Each rebuild picks
 * the threshold for the number of people then enrolled (operating-point.ts) and announces it ('operatingPoint').
 */
import type { MatchConfig } from '../config/schema.js';
import type { Person, Sample } from '../store/types.js';
import type { Bus } from '../events/bus.js';
import { Matcher, matcherOptions } from './matcher.js';
import { enrolledPeople, operatingPoint, type OperatingPoint } from './operating-point.js';

export interface SampleSource {
  people(): Promise<readonly Person[]>;
  samples(): Promise<readonly Sample[]>;
}

export class LiveMatcher {
  private matcher: Matcher | null = null;
  private point: OperatingPoint | null = null;
  private stale = true;
  private readonly off: () => void;

  /** `oneToOne`: the embedder's 1:1 threshold, for a model without an open-set rule. */
  constructor(
    private readonly facebank: SampleSource,
    private readonly bus: Bus,
    private readonly modelId: string,
    private readonly match: MatchConfig,
    private readonly oneToOne: number,
    /** The detector's model or engine id: picks the detector + embedder pair's rule. */
    private readonly detectorModelId?: string,
  ) {
    this.off = bus.on('facebankChanged', () => {
      this.stale = true;
    });
  }

  /** The current matcher, rebuilt first if the facebank changed since the last build. */
  async current(): Promise<Matcher> {
    if (this.stale || !this.matcher) {
      this.stale = false;
      const [people, samples] = await Promise.all([this.facebank.people(), this.facebank.samples()]);
      const point = operatingPoint(this.match, this.modelId, this.oneToOne, enrolledPeople(samples, this.modelId), this.detectorModelId);
      this.matcher = new Matcher(people, samples, this.modelId, matcherOptions({ ...this.match, threshold: point.threshold }, point.threshold));
      if (this.point?.threshold !== point.threshold || this.point.people !== point.people) this.bus.emit('operatingPoint', point);
      this.point = point;
    }
    return this.matcher;
  }

  /** The operating point of the last build (null before the first). */
  get operatingPoint(): OperatingPoint | null {
    return this.point;
  }

  close(): void {
    this.off();
  }
}
