/**
 * Hybrid logical clock (pure): a version `<wallMs>-<counter>-<nodeId>` that never goes backwards on one node and
 * moves past every version it has seen, so "later" means the same thing on every appliance. Ties between nodes are
 * broken by the node id.
 */
export interface Hlc {
  wall: number;
  counter: number;
  node: string;
}

/** Text form: fixed-width wall time and counter, so that plain string order is version order for the same node id length. */
export function formatHlc(h: Hlc): string {
  return `${h.wall.toString().padStart(15, '0')}-${h.counter.toString().padStart(6, '0')}-${h.node}`;
}

const TEXT = /^(\d{15})-(\d{6})-(.+)$/;

export function parseHlc(s: string): Hlc | null {
  const m = TEXT.exec(s);
  return m ? { wall: Number(m[1]), counter: Number(m[2]), node: m[3]! } : null;
}

/** Negative when a is older than b, 0 when equal. */
export function compareHlc(a: Hlc, b: Hlc): number {
  if (a.wall !== b.wall) return a.wall - b.wall;
  if (a.counter !== b.counter) return a.counter - b.counter;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** The clock of one node: `now()` for a local change, `observe()` for every version received. */
export class HlcClock {
  private last: Hlc;

  constructor(
    readonly node: string,
    private readonly wallClock: () => number = Date.now,
  ) {
    this.last = { wall: 0, counter: 0, node };
  }

  now(): Hlc {
    const wall = this.wallClock();
    this.last = wall > this.last.wall ? { wall, counter: 0, node: this.node } : { wall: this.last.wall, counter: this.last.counter + 1, node: this.node };
    return this.last;
  }

  observe(seen: Hlc): void {
    const wall = Math.max(this.wallClock(), this.last.wall, seen.wall);
    const counter =
      wall === this.last.wall && wall === seen.wall
        ? Math.max(this.last.counter, seen.counter) + 1
        : wall === this.last.wall
          ? this.last.counter + 1
          : wall === seen.wall
            ? seen.counter + 1
            : 0;
    this.last = { wall, counter, node: this.node };
  }
}
