/**
 * Recognition event history, persisted to <dataDir>/events.json. Every decision is kept as its own entry (a
 * track's `new`, `update`s and `end` share the track id), so each event stays addressable, and corrections
 * for it, until the history is full: then the oldest uncorrected entries go first. The face embedding (the
 * track's best face, kept on its newest entry) is for corrections; it never leaves the server.
 */
import path from 'node:path';
import type { RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import { readJson } from './atomic.js';
import { DebouncedJsonFile } from './atomic.js';

export interface StoredEvent extends RecognitionEvent {
  /** Set once someone corrected this decision on the page. */
  correction?: { kind: 'reassigned' | 'not-person'; personId: string; time: string };
}
interface Entry {
  event: StoredEvent;
  embedding: number[] | null;
}

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
  private readonly file: string;
  private readonly store: DebouncedJsonFile;

  private constructor(
    dataDir: string,
    private readonly capacity: number,
    saveDelayMs: number,
  ) {
    this.file = path.join(dataDir, 'events.json');
    this.store = new DebouncedJsonFile(this.file, saveDelayMs, () => this.entries);
  }

  static async open(dataDir: string, opts: { capacity?: number; saveDelayMs?: number } = {}): Promise<EventStore> {
    const s = new EventStore(dataDir, opts.capacity ?? 3000, opts.saveDelayMs ?? 1000);
    const d = await readJson<Entry[]>(s.file);
    if (Array.isArray(d)) {
      s.entries = d.filter((x) => x && typeof x === 'object' && x.event && typeof x.event.id === 'string');
      s.prune();
    }
    return s;
  }

  /** Records every 'recognition' event from now on; returns the unsubscribe function. */
  attach(bus: Bus): () => void {
    return bus.on('recognition', (e, extra) => this.add(e, extra.embedding));
  }

  add(event: RecognitionEvent, embedding: Float32Array | null): void {
    if (embedding) {
      // One face per track is enough to learn from (the track's best so far): older entries drop theirs.
      for (const x of this.entries) if (x.embedding && x.event.track === event.track && x.event.camera === event.camera) x.embedding = null;
    }
    this.entries.push({ event: { ...event }, embedding: embedding ? Array.from(embedding) : null });
    this.prune();
    this.scheduleSave();
  }

  /** Over capacity: drop the oldest uncorrected entries first, then the oldest corrected ones. */
  private prune(): void {
    let extra = this.entries.length - this.capacity;
    if (extra <= 0) return;
    const out: Entry[] = [];
    for (const x of this.entries) {
      if (extra > 0 && !x.event.correction) extra--;
      else out.push(x);
    }
    this.entries = extra > 0 ? out.slice(extra) : out;
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
    const x = this.entries.find((e) => e.event.id === id);
    if (!x) return;
    x.event.correction = { kind, personId, time: new Date().toISOString() };
    this.scheduleSave();
  }

  private scheduleSave(): void {
    this.store.schedule();
  }

  save(): Promise<void> {
    return this.store.save();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
