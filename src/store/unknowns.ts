/**
 * Unknown faces (embedding + crop snapshot + time + camera) from 'recognition' events without a person, one per
 * track, kept for web.unknownRetentionHours so the page can cluster and name them. Persisted to <dataDir>/unknowns.json.
 */
import path from 'node:path';
import type { RecognitionEvent } from '../events/types.js';
import type { Bus } from '../events/bus.js';
import type { FaceQuality } from '../vision/types.js';
import { readJson } from './atomic.js';
import { DebouncedJsonFile } from './atomic.js';

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

export class UnknownStore {
  private faces: UnknownFace[] = [];
  private readonly file: string;
  private readonly store: DebouncedJsonFile;

  private constructor(
    dataDir: string,
    private readonly retentionMs: number,
    private readonly capacity: number,
  ) {
    this.file = path.join(dataDir, 'unknowns.json');
    this.store = new DebouncedJsonFile(this.file, 1000, () => this.faces);
  }

  static async open(dataDir: string, opts: { retentionHours: number; capacity?: number }): Promise<UnknownStore> {
    const s = new UnknownStore(dataDir, opts.retentionHours * 3600_000, opts.capacity ?? 2000);
    const d = await readJson<UnknownFace[]>(s.file);
    if (Array.isArray(d)) s.faces = d;
    s.expire();
    return s;
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
    if (i >= 0) this.faces.splice(i, 1);
    this.faces.push(face);
    if (this.faces.length > this.capacity) this.faces.splice(0, this.faces.length - this.capacity);
    this.scheduleSave();
  }

  /** Drops faces older than the retention time. */
  expire(now = Date.now()): void {
    const n = this.faces.length;
    this.faces = this.faces.filter((f) => now - Date.parse(f.time) < this.retentionMs);
    if (this.faces.length !== n) this.scheduleSave();
  }

  list(): UnknownFace[] {
    this.expire();
    return this.faces.slice();
  }

  remove(ids: string[]): void {
    const drop = new Set(ids);
    this.faces = this.faces.filter((f) => !drop.has(f.id));
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
