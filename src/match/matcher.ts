/**
 * Pure in-memory matcher over the samples of ONE embedder model.
 *
 * Per person: best = highest cosine to any positive sample; trimmed = mean of the positive similarities after
 * dropping the lowest floor(trimFraction × k). Ranking score = (best + trimmed) / 2: one lucky sample cannot
 * carry a person alone, a few bad samples cannot sink one (with one sample, score = best).
 * A face is named P when best(P) ≥ threshold AND score(P) − score(runner-up) ≥ margin.
 * Negatives: P is vetoed when the best similarity to one of P's negative samples ≥ best(P) + negativeMargin;
 * vetoed people are skipped and the ranking goes on with the rest.
 * Similarities are computed on int16 fixed-point unit vectors (rows.ts): within similarityErrorBound(d) of the
 * float ones (4.2e-4 at d = 192, typically about 1e-5).
 */
import type { PersonRef } from '../events/types.js';
import type { Person, Sample } from '../store/types.js';
import { FacegateError } from '../util/errors.js';
import { Rows, fixedUnit, norm2, rowDot, writeFixedUnit } from './rows.js';

export type MatchReason = 'match' | 'below-threshold' | 'ambiguous' | 'negative' | 'empty';

export interface Candidate {
  person: PersonRef;
  /** Best-of cosine similarity. */
  similarity: number;
  /** Ranking score (see file comment). */
  score: number;
}

export interface MatchResult {
  /** The named person, or null. */
  person: PersonRef | null;
  /** Best-of similarity of the top-ranked person (named or not); -1 when there is nobody. */
  similarity: number;
  /** Ranking score of the top-ranked person. */
  score: number;
  /** Top-ranked person, even when not named. */
  candidate: Candidate | null;
  /** Runner-up (after negative vetoes). */
  secondBest: Candidate | null;
  reason: MatchReason;
  /** The threshold the name was (or was not) given at. */
  threshold: number;
}

export interface MatcherOptions {
  threshold: number;
  margin: number;
  trimFraction: number;
  negativeMargin: number;
  /**
   * Also index each person's centroid (the normalised mean of their positive samples, for people with two or
   * more): a person is then as close as their best sample or their centroid. Measured on LFW (src/eval/README.md):
   * with 3 photos per person, DIR at FPIR 1e-3 and 1,000 people rises from 0.87 (samples one by one) to 0.92.
   */
  centroids?: boolean;
}

/** A person's centroid, row `to` of m: the normalised mean of `rows` (a person's samples); the first of them if the mean is zero. */
function writeCentroid(m: Int16Array, rows: readonly number[], to: number, dim: number, sum: Float64Array): void {
  // Integer sums: exact, so the centroid does not depend on the order of the rows.
  sum.fill(0, 0, dim);
  for (const r of rows) for (let i = 0; i < dim; i++) sum[i]! += m[r * dim + i]!;
  if (norm2(sum.subarray(0, dim)) > 0) writeFixedUnit(m, to * dim, sum, dim);
  else m.copyWithin(to * dim, rows[0]! * dim, rows[0]! * dim + dim);
}

/** A person's best similarity to a face (see Matcher.resemblances). */
export interface PersonSimilarity {
  person: PersonRef;
  similarity: number;
}

/**
 * The index can follow the facebank change by change (putPerson, removePerson, addSample, removeSample), so a
 * facebank of thousands is not rebuilt for each enrolment. Rows are unordered: `owner[r]` is the person slot of
 * row r, and each slot lists its sample rows and its centroid row.
 */
export class Matcher {
  readonly modelId: string;
  readonly options: MatcherOptions;
  /** Samples of other models or with bad embeddings, left out when built. */
  readonly skipped: number;
  private d = 0;
  /** Person slots: slot → person (null: free), its sample rows, its centroid row (-1: none). */
  private readonly refs: (PersonRef | null)[] = [];
  private readonly rowsOf: number[][] = [];
  private readonly centroidOf: number[] = [];
  private readonly slotOf = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  /** People with at least one positive row. */
  private enrolled = 0;
  private rows: Rows | null = null;
  /** Rows in use, the slot owning each row, and its sample id (null for a centroid). */
  private n = 0;
  private owner = new Int32Array(0);
  private rowSample: (string | null)[] = [];
  /** Negative samples: id, slot, normalised embedding (fixed point, as the rows). */
  private readonly negs: { id: string; slot: number; e: Int16Array }[] = [];
  private best = new Float32Array(0);
  private scratch = new Float32Array(8);
  private centroidSum = new Float64Array(0);
  /** Rows [runEnd[i-1], runEnd[i]) all belong to slot runSlot[i] (see refreshRuns). */
  private runSlot = new Int32Array(0);
  private runEnd = new Int32Array(0);
  private runCount = 0;
  private runsStale = true;

  constructor(people: readonly Person[], samples: readonly Sample[], modelId: string, options: MatcherOptions) {
    this.modelId = modelId;
    this.options = { ...options };
    for (const p of people) this.putPerson(p);
    // First pass: which samples count (no copies: the rows are written once, normalised, below).
    const pos: Sample[] = [];
    let skipped = 0;
    for (const s of samples) {
      if (!this.accepts(s)) {
        skipped++;
        continue;
      }
      this.d ||= s.embedding.length;
      if (s.negative) this.addNegative(s);
      else pos.push(s);
    }
    this.skipped = skipped;
    // Each person's rows side by side (a counting sort by slot): the best-of pass then runs over runs of one owner.
    const at = new Uint32Array(this.refs.length + 1);
    for (const s of pos) at[this.slotOf.get(s.personId)! + 1]!++;
    const centroids = this.options.centroids ? at.reduce((a, k) => a + (k > 1 ? 1 : 0), 0) : 0;
    for (let i = 1; i < at.length; i++) at[i]! += at[i - 1]!;
    const grouped = new Array<Sample>(pos.length);
    for (const s of pos) grouped[at[this.slotOf.get(s.personId)!]!++] = s;
    if (pos.length) this.reserveRows(pos.length + centroids);
    for (const s of grouped) this.appendRow(this.slotOf.get(s.personId)!, s.id, s.embedding);
    for (let slot = 0; slot < this.refs.length; slot++) {
      this.refreshCentroid(slot);
      // A grown array keeps room for about 17 rows; a copy holds just its own (a megabyte at 10,000 people).
      this.rowsOf[slot] = this.rowsOf[slot]!.slice();
    }
  }

  /** How row products are computed. */
  get backend(): 'wasm-simd' | 'js' {
    return this.rows?.backend ?? 'js';
  }

  /** Embedding size (0 while empty). */
  get dim(): number {
    return this.d;
  }

  /** Number of positive rows indexed (samples, and centroids when on). */
  get size(): number {
    return this.n;
  }

  /** Number of people with positive samples (the N of 1:N). */
  get peopleCount(): number {
    return this.enrolled;
  }

  /** The threshold a face is named at from now on (the facebank's size changed). */
  setThreshold(threshold: number): void {
    this.options.threshold = threshold;
  }

  // ---- following the facebank ----

  /** A person created or renamed. */
  putPerson(p: Person): void {
    const slot = this.slotOf.get(p.id);
    if (slot !== undefined) {
      this.refs[slot] = { id: p.id, name: p.name };
      return;
    }
    const s = this.freeSlots.pop() ?? this.refs.length;
    this.refs[s] = { id: p.id, name: p.name };
    this.rowsOf[s] = [];
    this.centroidOf[s] = -1;
    this.slotOf.set(p.id, s);
  }

  /** A person removed, with their samples. */
  removePerson(id: string): void {
    const slot = this.slotOf.get(id);
    if (slot === undefined) return;
    const rows = this.rowsOf[slot]!;
    if (rows.length) this.enrolled--;
    while (rows.length) this.removeRow(rows.pop()!);
    if (this.centroidOf[slot]! >= 0) this.removeRow(this.centroidOf[slot]!);
    this.centroidOf[slot] = -1;
    for (let i = this.negs.length - 1; i >= 0; i--) if (this.negs[i]!.slot === slot) this.negs.splice(i, 1);
    this.refs[slot] = null;
    this.slotOf.delete(id);
    this.freeSlots.push(slot);
  }

  /** A sample added (left out, as when built, if it is of another model or its person is unknown). */
  addSample(s: Sample): void {
    if (!this.accepts(s)) return;
    this.d ||= s.embedding.length;
    if (s.negative) return this.addNegative(s);
    const slot = this.slotOf.get(s.personId)!;
    if (!this.rows) this.reserveRows(1);
    this.appendRow(slot, s.id, s.embedding);
    this.refreshCentroid(slot);
  }

  /** A sample removed. */
  removeSample(id: string): void {
    const neg = this.negs.findIndex((x) => x.id === id);
    if (neg >= 0) {
      this.negs.splice(neg, 1);
      return;
    }
    const r = this.rowSample.indexOf(id);
    if (r < 0 || r >= this.n) return;
    const slot = this.owner[r]!;
    const rows = this.rowsOf[slot]!;
    rows.splice(rows.indexOf(r), 1);
    this.removeRow(r);
    if (!rows.length) this.enrolled--;
    this.refreshCentroid(slot);
  }

  private accepts(s: Sample): boolean {
    const e = s.embedding;
    return s.modelId === this.modelId && this.slotOf.has(s.personId) && e.length > 0 && (!this.d || e.length === this.d) && norm2(e) > 0;
  }

  private addNegative(s: Sample): void {
    this.negs.push({ id: s.id, slot: this.slotOf.get(s.personId)!, e: fixedUnit(s.embedding) });
  }

  private reserveRows(rows: number): void {
    this.rows ??= Rows.allocate(rows, this.d);
    this.rows.ensure(rows);
    if (this.owner.length < this.rows.capacity) {
      const owner = new Int32Array(this.rows.capacity);
      owner.set(this.owner.subarray(0, this.n));
      this.owner = owner;
    }
  }

  /** A new row for slot: a sample's (written from v) or, with sampleId null, the slot's centroid (written by the caller). */
  private appendRow(slot: number, sampleId: string | null, v: ArrayLike<number> | null): number {
    this.reserveRows(this.n + 1);
    const r = this.n++;
    this.runsStale = true;
    if (v) writeFixedUnit(this.rows!.matrix, r * this.d, v, this.d);
    this.owner[r] = slot;
    this.rowSample[r] = sampleId;
    if (sampleId !== null) {
      const rows = this.rowsOf[slot]!;
      rows.push(r);
      if (rows.length === 1) this.enrolled++;
    } else this.centroidOf[slot] = r;
    return r;
  }

  /** Row r leaves: the last row moves into its place (the caller has already taken r off its slot's list). */
  private removeRow(r: number): void {
    const last = --this.n;
    this.runsStale = true;
    if (r !== last) {
      const m = this.rows!.matrix;
      const d = this.d;
      m.copyWithin(r * d, last * d, last * d + d);
      const slot = this.owner[last]!;
      this.owner[r] = slot;
      this.rowSample[r] = this.rowSample[last]!;
      if (this.rowSample[r] === null) this.centroidOf[slot] = r;
      else {
        const rows = this.rowsOf[slot]!;
        rows[rows.indexOf(last)] = r;
      }
    }
    this.rowSample.length = this.n;
  }

  /** A person's centroid row after their samples changed: written, moved or dropped (centroids need two samples). */
  private refreshCentroid(slot: number): void {
    const rows = this.rowsOf[slot]!;
    const wanted = this.options.centroids === true && rows.length > 1;
    let c = this.centroidOf[slot]!;
    if (!wanted) {
      if (c >= 0) {
        this.centroidOf[slot] = -1;
        this.removeRow(c);
      }
      return;
    }
    if (c < 0) c = this.appendRow(slot, null, null);
    if (this.centroidSum.length < this.d) this.centroidSum = new Float64Array(this.d);
    writeCentroid(this.rows!.matrix, rows, c, this.d, this.centroidSum);
  }

  // ---- scoring ----

  /** The normalised query in fixed point, checked against the index. */
  private query(embedding: ArrayLike<number>): Int16Array {
    if (embedding.length !== this.d)
      throw new FacegateError('dimension', `The face embedding has ${embedding.length} values; the facebank's ${this.modelId} samples have ${this.d}.`);
    if (!(norm2(embedding) > 0)) throw new FacegateError('invalid', 'The face embedding is zero or not finite.');
    return fixedUnit(embedding);
  }

  /** Each slot's best row similarity (sample rows, and centroid rows when `centroids`); -Infinity without rows. */
  private bestPerSlot(sims: Float32Array, centroids: boolean): Float32Array {
    const P = this.refs.length;
    if (this.best.length < P) this.best = new Float32Array(Math.ceil(P * 1.125) + 16);
    const best = this.best;
    best.fill(-Infinity, 0, P);
    // sims is the kernel's scratch output: centroids left out are simply scored -Infinity.
    if (!centroids) for (let p = 0; p < P; p++) if (this.centroidOf[p]! >= 0) sims[this.centroidOf[p]!] = -Infinity;
    // Over runs of rows of one owner (mostly one run a person): a small table, where the owner of every row would
    // be another 4 bytes a row to read just after the kernel has streamed all rows through the cache.
    this.refreshRuns();
    const { runSlot, runEnd } = this;
    let from = 0;
    for (let i = 0; i < this.runCount; i++) {
      const p = runSlot[i]!;
      const to = runEnd[i]!;
      let b = best[p]!;
      for (let r = from; r < to; r++) {
        const v = sims[r]!;
        b = v > b ? v : b;
      }
      best[p] = b;
      from = to;
    }
    return best;
  }

  /** The runs of rows with one owner, found again after rows were added, moved or removed. */
  private refreshRuns(): void {
    if (!this.runsStale) return;
    const owner = this.owner;
    let k = 0;
    for (let r = 0; r < this.n; r++) if (r === 0 || owner[r] !== owner[r - 1]) k++;
    if (this.runSlot.length < k) {
      this.runSlot = new Int32Array(Math.ceil(k * 1.125) + 16);
      this.runEnd = new Int32Array(this.runSlot.length);
    }
    k = 0;
    for (let r = 0; r < this.n; r++) {
      if (r > 0 && owner[r] === owner[r - 1]) continue;
      if (k > 0) this.runEnd[k - 1] = r;
      this.runSlot[k++] = owner[r]!;
    }
    if (k > 0) this.runEnd[k - 1] = this.n;
    this.runCount = k;
    this.runsStale = false;
  }

  /** Match one face; `threshold` overrides the options' (e.g. a track's threshold). */
  match(embedding: Float32Array, threshold = this.options.threshold): MatchResult {
    if (this.n === 0) return { person: null, similarity: -1, score: -1, candidate: null, secondBest: null, reason: 'empty', threshold };
    const q = this.query(embedding);
    const { margin, trimFraction, negativeMargin } = this.options;
    const sims = this.rows!.dots(q, this.n);
    const best = this.bestPerSlot(sims, true);
    // Negative vetoes.
    let vetoed: Set<number> | null = null;
    for (const x of this.negs) {
      if (best[x.slot] === -Infinity) continue;
      if (dotOf(x.e, q) >= best[x.slot]! + negativeMargin) (vetoed ??= new Set()).add(x.slot);
    }
    // One pass over the people: score ≤ best-of, so a person whose best-of is under the runner-up's score cannot
    // change the top two (nor outrank the top as a vetoed person) and is not scored.
    let top: Candidate | null = null;
    let second: Candidate | null = null;
    let topVetoed: Candidate | null = null;
    const P = this.refs.length;
    for (let p = 0; p < P; p++) {
      const b = best[p]!;
      if (b === -Infinity || (second && b < second.score)) continue;
      const c: Candidate = { person: this.refs[p]!, similarity: b, score: (b + this.trimmedMean(sims, p, trimFraction)) / 2 };
      if (vetoed?.has(p)) {
        if (!topVetoed || c.score > topVetoed.score) topVetoed = c;
        continue;
      }
      if (!top || c.score > top.score) {
        second = top;
        top = c;
      } else if (!second || c.score > second.score) second = c;
    }
    if (!top) {
      const v = topVetoed!;
      return { person: null, similarity: v.similarity, score: v.score, candidate: null, secondBest: null, reason: 'negative', threshold };
    }
    const base = { similarity: top.similarity, score: top.score, candidate: top, secondBest: second, threshold };
    if (top.similarity >= threshold && (!second || top.score - second.score >= margin)) return { ...base, person: top.person, reason: 'match' };
    const reason: MatchReason = topVetoed && topVetoed.score > top.score ? 'negative' : top.similarity < threshold ? 'below-threshold' : 'ambiguous';
    return { ...base, person: null, reason };
  }

  /** Best-of cosine of a face to one person's positive rows (centroid included); -1 for a person with none. */
  similarityTo(embedding: Float32Array, personId: string): number {
    const slot = this.slotOf.get(personId);
    const q = slot === undefined || embedding.length !== this.d || !(norm2(embedding) > 0) ? null : fixedUnit(embedding);
    if (!q) return -1;
    const m = this.rows?.matrix;
    let b = -1;
    if (!m) return b;
    for (const r of this.rowsOf[slot!]!) b = Math.max(b, rowDot(m, r, q, this.d));
    if (this.centroidOf[slot!]! >= 0) b = Math.max(b, rowDot(m, this.centroidOf[slot!]!, q, this.d));
    return b;
  }

  /**
   * Each person's best similarity to a face over their samples (positive, or with `negative` the negative ones;
   * centroids not counted), best first: the `top` most alike, plus the people in `also` that have samples. One pass
   * over the rows, as match(); a face of another size than the index's resembles nobody.
   */
  resemblances(embedding: ArrayLike<number>, opts: { negative?: boolean; top: number; also?: readonly string[] }): PersonSimilarity[] {
    const q = embedding.length === this.d && norm2(embedding) > 0 ? fixedUnit(embedding) : null;
    if (!q) return [];
    let best: Float32Array;
    if (opts.negative) {
      best = this.best.length < this.refs.length ? (this.best = new Float32Array(Math.ceil(this.refs.length * 1.125) + 16)) : this.best;
      best.fill(-Infinity, 0, this.refs.length);
      for (const x of this.negs) best[x.slot] = Math.max(best[x.slot]!, dotOf(x.e, q));
    } else {
      if (this.n === 0) return [];
      best = this.bestPerSlot(this.rows!.dots(q, this.n), false);
    }
    const top: number[] = [];
    for (let p = 0; p < this.refs.length; p++) {
      const v = best[p]!;
      if (v === -Infinity || (top.length === opts.top && v <= best[top[top.length - 1]!]!)) continue;
      let i = top.length < opts.top ? top.length : top.length - 1;
      if (top.length < opts.top) top.push(p);
      for (; i > 0 && best[top[i - 1]!]! < v; i--) top[i] = top[i - 1]!;
      top[i] = p;
    }
    for (const id of opts.also ?? []) {
      const p = this.slotOf.get(id);
      if (p !== undefined && best[p] !== -Infinity && !top.includes(p)) top.push(p);
    }
    return top.map((p) => ({ person: this.refs[p]!, similarity: best[p]! })).sort((a, b) => b.similarity - a.similarity);
  }

  matchMany(batch: readonly Float32Array[]): MatchResult[] {
    return batch.map((e) => this.match(e));
  }

  /** Mean of person p's similarities (centroid included) after dropping the lowest floor(trim × k); no allocation. */
  private trimmedMean(sims: Float32Array, p: number, trim: number): number {
    const rows = this.rowsOf[p]!;
    const c = this.centroidOf[p]!;
    const k = rows.length + (c >= 0 ? 1 : 0);
    if (k === 1) return sims[rows[0]!]!;
    const drop = Math.floor(trim * k);
    if (this.scratch.length < k) this.scratch = new Float32Array(k);
    const s = this.scratch;
    for (let i = 0; i < k; i++) {
      const v = sims[i < rows.length ? rows[i]! : c]!;
      let j = i;
      for (; j > 0 && s[j - 1]! > v; j--) s[j] = s[j - 1]!;
      s[j] = v;
    }
    let sum = 0;
    for (let i = drop; i < k; i++) sum += s[i]!;
    return sum / (k - drop);
  }
}

/** Similarity of two fixed-point unit vectors of the same size. */
function dotOf(a: Int16Array, b: Int16Array): number {
  return rowDot(a, 0, b, b.length);
}

/** Matcher options from the config sections; threshold falls back to the embedder's own; centroids on (measured best). */
export function matcherOptions(
  match: { threshold?: number; margin: number; trimFraction: number; negativeMargin: number },
  defaultThreshold: number,
): MatcherOptions {
  return {
    threshold: match.threshold ?? defaultThreshold,
    margin: match.margin,
    trimFraction: match.trimFraction,
    negativeMargin: match.negativeMargin,
    centroids: true,
  };
}
