/**
 * Recognition event history, journalled to <dataDir>/events.jsonl (store/journal.ts: one line per new event or
 * correction). Every decision is kept as its own entry (a track's `new`, `update`s and `end` share the track id),
 * so each event stays addressable, and corrections for it, until the history is full: then the oldest uncorrected
 * entries go first. The face embedding (the track's best face, kept on its newest entry) is for corrections; it
 * never leaves the server. A history in the older whole-file format (events.json) is imported once.
 */
import path from 'node:path';
import { z } from 'zod';
import type { RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import { Journal, readLegacyArray } from './journal.js';
import type { StorageReporter } from './storage-health.js';

export interface StoredEvent extends RecognitionEvent {
  /** Set once someone corrected this decision on the page. */
  correction?: { kind: 'reassigned' | 'not-person'; personId: string; time: string };
}
interface Entry {
  event: StoredEvent;
  embedding: number[] | null;
}
/** A journal line: an entry added, or a correction of the event with that id. */
type Change = { e: Entry } | { c: { id: string; correction: NonNullable<StoredEvent['correction']> | null } };

const num = z.number().finite();
const correctionSchema = z.object({ kind: z.enum(['reassigned', 'not-person']), personId: z.string(), time: z.string() });
const eventSchema = z
  .object({
    type: z.enum(['new', 'update', 'end']),
    id: z.string().min(1),
    camera: z.string(),
    track: z.string(),
    person: z.object({ id: z.string(), name: z.string() }).nullable(),
    similarity: num.nullable(),
    confidence: num,
    box: z.tuple([num, num, num, num]),
    quality: z.object({ size: num, score: num, blur: num, yaw: num, pitch: num, roll: num }),
    frameTime: z.string(),
    publishTime: z.string(),
    snapshot: z.string().nullable(),
    duration: num.optional(),
    correction: correctionSchema.optional(),
  })
  .passthrough();
/** One journal line as it must be to be replayed. */
const changeSchema = z.union([
  z.object({ e: z.object({ event: eventSchema, embedding: z.array(num).nullable() }) }),
  z.object({ c: z.object({ id: z.string(), correction: correctionSchema }) }),
]) as unknown as z.ZodType<Change>;

export interface EventQuery {
  person?: string;
  camera?: string;
  /** One track's events. */
  track?: string;
  /** Only corrected events. */
  corrected?: boolean;
  limit?: number;
}

export class EventStore {
  private entries: Entry[] = [];
  private readonly journal: Journal<Change>;

  private constructor(
    private readonly dataDir: string,
    private readonly capacity: number,
    saveDelayMs: number,
    storage?: StorageReporter,
  ) {
    this.journal = new Journal<Change>(
      path.join(dataDir, 'events.jsonl'),
      { records: () => this.entries.map((e) => ({ e })), size: () => this.entries.length },
      changeSchema,
      'The event history',
      { flushMs: saveDelayMs, storage },
    );
  }

  /**
   * `storage`: where a write that fails (disk full) is reported; the history goes on in memory and is written
   * whole when space is back. `saveDelayMs`: longest wait for fsync (each change reaches the kernel at once).
   */
  static async open(dataDir: string, opts: { capacity?: number; saveDelayMs?: number; storage?: StorageReporter } = {}): Promise<EventStore> {
    const s = new EventStore(dataDir, opts.capacity ?? 3000, opts.saveDelayMs ?? 1000, opts.storage);
    await s.journal.open((r) => s.apply(r));
    const legacy = await readLegacyArray<Entry>(path.join(s.dataDir, 'events.json'));
    if (legacy) {
      const known = new Set(s.entries.map((x) => x.event.id));
      const older = legacy.items.filter((x) => x && typeof x === 'object' && x.event && typeof x.event.id === 'string' && !known.has(x.event.id));
      const newer = s.entries;
      s.entries = [];
      for (const x of [...older, ...newer]) s.apply({ e: x });
      if (await s.journal.compact()) await legacy.remove();
    }
    return s;
  }

  /** Applies one change to the in-memory history (live and at replay alike). */
  private apply(r: Change): void {
    if ('e' in r) {
      const x = r.e;
      if (!x?.event || typeof x.event.id !== 'string') return;
      if (x.embedding) {
        // One face per track is enough to learn from (the track's best so far): older entries drop theirs.
        for (const y of this.entries) if (y.embedding && y.event.track === x.event.track && y.event.camera === x.event.camera) y.embedding = null;
      }
      this.entries.push(x);
      this.prune();
    } else if ('c' in r) {
      const x = this.entries.find((e) => e.event.id === r.c.id);
      if (x && r.c.correction) x.event.correction = r.c.correction;
      else if (x) delete x.event.correction;
    }
  }

  /** Records every 'recognition' event from now on; returns the unsubscribe function. */
  attach(bus: Bus): () => void {
    return bus.on('recognition', (e, extra) => this.add(e, extra.embedding));
  }

  add(event: RecognitionEvent, embedding: Float32Array | null): void {
    const change: Change = { e: { event: { ...event }, embedding: embedding ? Array.from(embedding) : null } };
    this.apply(change);
    this.journal.append(change);
  }

  /** Over capacity: drop the oldest uncorrected entries first, then the oldest corrected ones. */
  private prune(): void {
    while (this.entries.length > this.capacity) {
      const i = this.entries.findIndex((x) => !x.event.correction);
      this.entries.splice(Math.max(i, 0), 1);
    }
  }

  /** Newest first. */
  list(q: EventQuery = {}): StoredEvent[] {
    const limit = Math.max(1, Math.min(q.limit ?? 100, this.capacity));
    const out: StoredEvent[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.entries[i]!.event;
      if (q.camera && e.camera !== q.camera) continue;
      if (q.track && e.track !== q.track) continue;
      if (q.corrected && !e.correction) continue;
      if (q.person && (q.person === 'unknown' ? e.person !== null : e.person?.id !== q.person)) continue;
      out.push(e);
    }
    return out;
  }

  /** Number of events held. */
  get size(): number {
    return this.entries.length;
  }

  get(id: string): { event: StoredEvent; embedding: Float32Array | null } | null {
    const x = this.entries.find((e) => e.event.id === id);
    if (!x) return null;
    // An event that kept no face learns from the newest face of its track.
    let emb = x.embedding;
    for (let i = this.entries.length - 1; !emb && i >= 0; i--) {
      const y = this.entries[i]!;
      if (y.event.track === x.event.track && y.event.camera === x.event.camera) emb = y.embedding;
    }
    return { event: x.event, embedding: emb ? Float32Array.from(emb) : null };
  }

  markCorrected(id: string, kind: 'reassigned' | 'not-person', personId: string): void {
    if (!this.entries.some((e) => e.event.id === id)) return;
    const change: Change = { c: { id, correction: { kind, personId, time: new Date().toISOString() } } };
    this.apply(change);
    this.journal.append(change);
  }

  /** Takes a correction back (its Undo): the event is as the matcher decided it. */
  unmarkCorrected(id: string): void {
    if (!this.entries.some((e) => e.event.id === id && e.event.correction)) return;
    const change: Change = { c: { id, correction: null } };
    this.apply(change);
    this.journal.append(change);
  }

  /** fsyncs what changed now (each change is in the kernel already). */
  save(): Promise<void> {
    return this.journal.flush();
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
