/**
 * Recent recognition events (a bounded ring, one entry per track: a track's later decisions replace its earlier
 * one), persisted to <dataDir>/events.json. The face embedding is kept for corrections; it never leaves the server.
 */
import path from 'node:path';
import type { RecognitionEvent } from '../pipeline/events.js';
import type { Bus } from '../util/bus.js';
import { readJson } from './auth.js';
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
  limit?: number;
}

export class EventStore {
  private entries: Entry[] = [];
  private readonly file: string;
  private readonly store: DebouncedJsonFile;

  private constructor(dataDir: string, private readonly capacity: number, saveDelayMs: number) {
    this.file = path.join(dataDir, 'events.json');
    this.store = new DebouncedJsonFile(this.file, saveDelayMs, () => this.entries);
  }

  static async open(dataDir: string, opts: { capacity?: number; saveDelayMs?: number } = {}): Promise<EventStore> {
    const s = new EventStore(dataDir, opts.capacity ?? 1000, opts.saveDelayMs ?? 1000);
    const d = await readJson<Entry[]>(s.file);
    if (Array.isArray(d)) s.entries = d.slice(-s.capacity);
    return s;
  }

  /** Records every 'recognition' event from now on; returns the unsubscribe function. */
  attach(bus: Bus): () => void {
    return bus.on('recognition', (e, extra) => this.add(e, extra.embedding));
  }

  add(event: RecognitionEvent, embedding: Float32Array | null): void {
    const i = this.entries.findIndex((x) => x.event.track === event.track && x.event.camera === event.camera);
    let keep: number[] | null = embedding ? Array.from(embedding) : null;
    if (i >= 0) {
      keep ??= this.entries[i].embedding;
      this.entries.splice(i, 1);
    }
    this.entries.push({ event: { ...event }, embedding: keep });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    this.scheduleSave();
  }

  /** Newest first. */
  list(q: EventQuery = {}): StoredEvent[] {
    const limit = Math.max(1, Math.min(q.limit ?? 100, this.capacity));
    const out: StoredEvent[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.entries[i].event;
      if (q.camera && e.camera !== q.camera) continue;
      if (q.person && (q.person === 'unknown' ? e.person !== null : e.person?.id !== q.person)) continue;
      out.push(e);
    }
    return out;
  }

  get(id: string): { event: StoredEvent; embedding: Float32Array | null } | null {
    const x = this.entries.find((e) => e.event.id === id);
    return x ? { event: x.event, embedding: x.embedding ? Float32Array.from(x.embedding) : null } : null;
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
