/**
 * A matcher that follows the facebank: each 'facebankChanged' is applied to the index as it happens (a person
 * created, renamed or removed, a sample added or removed), so an enrolment never waits for a rebuild; a change it
 * cannot follow row by row (a re-embedding, a batch from another appliance) or a missed change (its seq is not the
 * next one) marks it stale, and it is rebuilt at the next use. The threshold follows the number of people enrolled
 * (operating-point.ts) and is announced when it changes ('operatingPoint').
 */
import type { MatchConfig } from '../config/schema.js';
import type { FacebankChange, Person, Sample } from '../store/types.js';
import type { Bus } from '../events/bus.js';
import { Matcher, matcherOptions } from './matcher.js';
import { operatingPoint, type OperatingPoint } from './operating-point.js';

export interface SampleSource {
  people(): Promise<readonly Person[]>;
  samples(): Promise<readonly Sample[]>;
  /** The number of the last committed change, when the source has one: a gap means changes were missed. */
  readonly seq?: number;
}

export class LiveMatcher {
  private matcher: Matcher | null = null;
  private building: Promise<Matcher> | null = null;
  /** Changes announced while a build reads the facebank (applied after it when they are newer). */
  private pending: FacebankChange[] | null = null;
  private point: OperatingPoint | null = null;
  private stale = true;
  /** The facebank's seq the index holds (undefined for a source without one). */
  private seq: number | undefined;
  private readonly off: () => void;

  /** `oneToOne`: the embedder's 1:1 threshold, for a model without an open-set rule. */
  constructor(
    private readonly facebank: SampleSource,
    private readonly bus: Bus,
    readonly modelId: string,
    private readonly match: MatchConfig,
    readonly oneToOne: number,
    /** The detector's model or engine id: picks the detector + embedder pair's rule. */
    readonly detectorModelId?: string,
  ) {
    this.off = bus.on('facebankChanged', (change) => this.follow(change));
  }

  /** The current matcher: built on first use, rebuilt first only if it could not follow a change. */
  async current(): Promise<Matcher> {
    if (this.building) return this.building;
    if (this.matcher && !this.stale && this.source() === this.seq) return this.matcher;
    return (this.building = this.build().finally(() => {
      this.building = null;
    }));
  }

  /** The operating point of the index as it is (null before the first build). */
  get operatingPoint(): OperatingPoint | null {
    return this.point;
  }

  close(): void {
    this.off();
  }

  private source(): number | undefined {
    return this.facebank.seq;
  }

  private async build(): Promise<Matcher> {
    this.stale = false;
    this.pending = [];
    // Let the old rows go before the new ones are written (at 50,000 samples they are about 46 MB).
    this.matcher = null;
    const seq = this.source();
    const [people, samples] = await Promise.all([this.facebank.people(), this.facebank.samples()]);
    const m = new Matcher(people, samples, this.modelId, matcherOptions(this.match, this.oneToOne));
    this.matcher = m;
    this.seq = seq;
    const missed = this.pending;
    this.pending = null;
    for (const c of missed) {
      if (seq === undefined) this.stale = true;
      else if (c.seq > seq) this.follow(c);
    }
    this.refreshPoint(m);
    return m;
  }

  /** Applies one committed change to the index, or marks it stale. */
  private follow(change: FacebankChange): void {
    if (this.pending) {
      this.pending.push(change);
      return;
    }
    const m = this.matcher;
    if (!m || this.stale) return;
    if (this.seq !== undefined && change.seq !== this.seq + 1) {
      this.stale = true;
      return;
    }
    this.seq = this.seq === undefined ? undefined : change.seq;
    switch (change.op) {
      case 'person.create':
      case 'person.rename':
        m.putPerson(change.person);
        break;
      case 'person.delete':
        m.removePerson(change.personId);
        break;
      case 'sample.add':
        m.addSample(change.sample);
        break;
      case 'sample.delete':
        m.removeSample(change.sampleId);
        break;
      default:
        this.stale = true;
        return;
    }
    this.refreshPoint(m);
  }

  /** The threshold for the number of people the index holds; announced when it changes. */
  private refreshPoint(m: Matcher): void {
    const people = m.peopleCount;
    if (this.point?.people !== people) {
      const point = operatingPoint(this.match, this.modelId, this.oneToOne, people, this.detectorModelId);
      if (this.point?.threshold !== point.threshold || this.point.people !== point.people) this.bus.emit('operatingPoint', point);
      this.point = point;
    }
    m.setThreshold(this.point.threshold);
  }
}
