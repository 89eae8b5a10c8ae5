/** Matcher benchmark: one face against N synthetic samples (default 10,000 × 192-d, 10 per person). */
import { pathToFileURL } from 'node:url';
import { Matcher } from '../match/matcher.js';
import { randomUnit, rng, unitWithCosine } from '../match/random.js';
import type { Person, Sample } from '../store/types.js';
import { nowMs, summarize, type Summary } from './stats.js';

export interface MatchBenchOptions {
  samples?: number;
  perPerson?: number;
  dim?: number;
  queries?: number;
  seed?: number;
}

export interface MatchBenchResult {
  samples: number;
  people: number;
  dim: number;
  buildMs: number;
  backend: 'wasm-simd' | 'js';
  /** Microseconds per match() call. */
  us: Summary;
}

const quality = { size: 112, score: 1, blur: 100, yaw: 0, pitch: 0, roll: 0 };

export function benchMatch(o: MatchBenchOptions = {}): MatchBenchResult {
  const n = o.samples ?? 10_000;
  const per = o.perPerson ?? 10;
  const dim = o.dim ?? 192;
  const queries = o.queries ?? 2000;
  const rand = rng(o.seed ?? 1);
  const people: Person[] = [];
  const samples: Sample[] = [];
  const centres: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const p = Math.floor(i / per);
    if (!people[p]) {
      people[p] = { id: `p${p}`, name: `person ${p}`, created: '', notes: '' };
      centres[p] = randomUnit(dim, rand);
    }
    const e = unitWithCosine(centres[p]!, 0.7, rand);
    samples.push({ id: `s${i}`, personId: `p${p}`, embedding: e, modelId: 'bench', quality, source: 'cli', created: '', negative: false });
  }
  const b0 = nowMs();
  const m = new Matcher(people, samples, 'bench', { threshold: 0.4, margin: 0.05, trimFraction: 0.2, negativeMargin: 0 });
  const buildMs = nowMs() - b0;
  const qs = Array.from({ length: queries }, (_, i) => unitWithCosine(centres[i % centres.length]!, 0.6, rand));
  for (let i = 0; i < Math.min(200, queries); i++) m.match(qs[i]!); // warm-up
  const us: number[] = [];
  for (const q of qs) {
    const t = nowMs();
    m.match(q);
    us.push((nowMs() - t) * 1000);
  }
  return { samples: n, people: people.length, dim, buildMs, backend: m.backend, us: summarize(us) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = benchMatch();
  console.log(JSON.stringify(r, null, 2));
}
