/** A matcher that follows the facebank: marked stale on 'facebankChanged', rebuilt on next use. */
import type { Person, Sample } from '../store/types.js';
import type { Bus } from '../util/bus.js';
import { Matcher, type MatcherOptions } from './matcher.js';

export interface SampleSource {
  people(): Promise<readonly Person[]>;
  samples(): Promise<readonly Sample[]>;
}

export class LiveMatcher {
  private matcher: Matcher | null = null;
  private stale = true;
  private readonly off: () => void;

  constructor(
    private readonly facebank: SampleSource,
    bus: Bus,
    private readonly modelId: string,
    private readonly options: MatcherOptions,
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
      this.matcher = new Matcher(people, samples, this.modelId, this.options);
    }
    return this.matcher;
  }

  close(): void {
    this.off();
  }
}
