/**
 * Unknown faces (embedding + crop snapshot + time + camera) from 'recognition' events without a person, one per
 * track, kept for web.unknownRetentionHours so the page can cluster and name them. Journalled to
 * <dataDir>/unknowns.jsonl (store/journal.ts: one line per face added or replaced, or faces removed); a file in
 * the older whole-file format (unknowns.json) is imported once.
 */
import path from 'node:path';
import { z } from 'zod';
import type { RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import type { FaceQuality } from '../vision/types.js';
import { Journal, readLegacyArray } from './journal.js';
import type { StorageReporter } from './storage-health.js';

export interface UnknownFace {
  /** The id of the event that last described this face's track. */
  id: string;
  camera: string;
  track: string;
  time: string;
  snapshot: string | null;
  quality: FaceQuality;
  embedding: number[];
}

/** A journal line: a face added (replacing its track's earlier face), or faces removed by id. */
type Change = { f: UnknownFace } | { r: string[] };

const num = z.number().finite();
/** One journal line as it must be to be replayed. */
const changeSchema = z.union([
  z.object({
    f: z.object({
      id: z.string().min(1),
      camera: z.string(),
      track: z.string(),
      time: z.string(),
      snapshot: z.string().nullable(),
      quality: z.object({ size: num, score: num, blur: num, yaw: num, pitch: num, roll: num }),
      embedding: z.array(num).min(1),
    }),
  }),
  z.object({ r: z.array(z.string()) }),
]) as z.ZodType<Change>;

export class UnknownStore {
  private faces: UnknownFace[] = [];
  private readonly journal: Journal<Change>;

  private constructor(
    private readonly dataDir: string,
    private readonly retentionMs: number,
    private readonly capacity: number,
    storage?: StorageReporter,
  ) {
    this.journal = new Journal<Change>(
      path.join(dataDir, 'unknowns.jsonl'),
      { records: () => this.faces.map((f) => ({ f })), size: () => this.faces.length },
      changeSchema,
      'The unknown faces',
      { storage },
    );
  }

  /** `storage`: where a write that fails (disk full) is reported; the faces stay in memory and are written whole when space is back. */
  static async open(dataDir: string, opts: { retentionHours: number; capacity?: number; storage?: StorageReporter }): Promise<UnknownStore> {
    const s = new UnknownStore(dataDir, opts.retentionHours * 3600_000, opts.capacity ?? 2000, opts.storage);
    await s.journal.open((r) => s.apply(r));
    const legacy = await readLegacyArray<UnknownFace>(path.join(s.dataDir, 'unknowns.json'));
    if (legacy) {
      const newer = s.faces;
      s.faces = [];
      for (const f of [...legacy.items, ...newer]) if (f && typeof f.id === 'string') s.apply({ f });
      if (await s.journal.compact()) await legacy.remove();
    }
    s.expire();
    return s;
  }

  /** Applies one change to the in-memory faces (live and at replay alike). */
  private apply(c: Change): void {
    if ('f' in c) {
      const face = c.f;
      const i = this.faces.findIndex((f) => f.track === face.track && f.camera === face.camera);
      if (i >= 0) this.faces.splice(i, 1);
      this.faces.push(face);
      if (this.faces.length > this.capacity) this.faces.splice(0, this.faces.length - this.capacity);
    } else if ('r' in c && Array.isArray(c.r)) {
      const drop = new Set(c.r);
      this.faces = this.faces.filter((f) => !drop.has(f.id));
    }
  }

  private change(c: Change): void {
    this.apply(c);
    this.journal.append(c);
  }

  attach(bus: Bus): () => void {
    return bus.on('recognition', (e, extra) => this.add(e, extra.embedding));
  }

  add(e: RecognitionEvent, embedding: Float32Array | null): void {
    const i = this.faces.findIndex((f) => f.track === e.track && f.camera === e.camera);
    if (e.person !== null) {
      // The track got a name after all: it is no longer unknown.
      if (i >= 0) this.remove([this.faces[i]!.id]);
      return;
    }
    if (!embedding && i < 0) return;
    const face: UnknownFace = {
      id: e.id,
      camera: e.camera,
      track: e.track,
      time: e.frameTime,
      snapshot: e.snapshot,
      quality: e.quality,
      embedding: embedding ? Array.from(embedding) : this.faces[i]!.embedding,
    };
    this.change({ f: face });
  }

  /** Drops faces older than the retention time. */
  expire(now = Date.now()): void {
    const old = this.faces.filter((f) => now - Date.parse(f.time) >= this.retentionMs).map((f) => f.id);
    if (old.length) this.change({ r: old });
  }

  list(): UnknownFace[] {
    this.expire();
    return this.faces.slice();
  }

  remove(ids: string[]): void {
    if (ids.length) this.change({ r: ids });
  }

  /** Puts removed faces back (an Undo), unless their track has a newer face meanwhile. */
  restore(faces: readonly UnknownFace[]): void {
    for (const f of faces) if (!this.faces.some((x) => x.id === f.id || (x.track === f.track && x.camera === f.camera))) this.change({ f });
  }

  /** Writes what changed now. */
  save(): Promise<void> {
    return this.journal.flush();
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}
