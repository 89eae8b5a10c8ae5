/**
 * The facebank: people and their face samples in <dataDir>/facebank.json (lowdb, atomic writes),
 * aligned crops as <dataDir>/samples/<sampleId>.jpg. One writer: an open Facebank holds the data directory's
 * lock (store/lock.ts), so no other process changes the files meanwhile; inside the process all changes go
 * through one queue, in order, each numbered (`seq`) and reported as a FacebankChange. A crop is on disk
 * before the JSON that names it; files nobody names (and temp files) are removed at open, under the lock.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Low } from 'lowdb';
import type { Bus } from '../events/bus.js';
import { FacegateError } from '../util/errors.js';
import { nameKey, normalizeName } from './names.js';
import type { Logger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import { AtomicJsonFile, TEMP_FILE, writeFileAtomic } from './atomic.js';
import { DataDirLock } from './lock.js';
import { SAMPLE_SOURCES, type FacebankChange, type NewSample, type Person, type RecordOp, type Sample } from './types.js';

export type { FacebankChange, RecordOp };
import { isId } from '../util/ids.js';
import { checkCrop, decodeCrop, encodeCrop } from './crops.js';
import { reembedSamples, type FreshEmbedding, type ReembedResult } from './reembed.js';

export const FACEBANK_VERSION = 1;

export interface FacebankData {
  version: number;
  /** Number of the last committed change (absent in files from before it was kept). */
  seq?: number;
  people: Person[];
  samples: Sample[];
}

type ChangeBody = FacebankChange extends infer C ? (C extends FacebankChange ? Omit<C, 'seq' | 'time'> : never) : never;

export interface FacebankOptions {
  bus?: Bus;
  log?: Logger;
  /** Lock holder role shown to other processes (default "facebank"). */
  role?: string;
  /** How long open() waits while a CLI job holds the lock (default 0: refuse at once). */
  lockWaitMs?: number;
  /** Ends a wait for the lock early. */
  signal?: AbortSignal;
  /** Read the file as it is, without the lock: no repairs, every change refused (e.g. `facegate scan`). */
  readOnly?: boolean;
}

type Step<R> = { next: FacebankData; change: ChangeBody; result: R } | { next: null; change?: undefined; result: R };

/** L2-normalised copy as plain numbers, rounded to 9 significant digits (exact for float32). */
function storeEmbedding(e: Float32Array | readonly number[]): number[] {
  if (!(e instanceof Float32Array || Array.isArray(e)) || e.length === 0)
    throw new FacegateError('invalid', 'The embedding must be a non-empty list of numbers.');
  let n = 0;
  for (let i = 0; i < e.length; i++) n += e[i]! * e[i]!;
  if (!Number.isFinite(n) || n === 0) throw new FacegateError('invalid', 'The embedding must be finite and not all zero.');
  const inv = 1 / Math.sqrt(n);
  return Array.from(e, (v: number) => Number((v * inv).toPrecision(9)));
}

const freezeSample = (s: Sample): Sample => {
  Object.freeze(s.embedding);
  Object.freeze(s.quality);
  return Object.freeze(s);
};

export class Facebank {
  readonly file: string;
  readonly samplesDir: string;
  private db: Low<FacebankData> | null = null;
  private lock: DataDirLock | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly dataDir: string,
    private readonly options: FacebankOptions = {},
  ) {
    this.file = path.join(dataDir, 'facebank.json');
    this.samplesDir = path.join(dataDir, 'samples');
  }

  /**
   * Take the data directory's lock (LockedError when another process writes it), read the file (or start
   * empty), drop samples of missing people, delete orphan crops and temp files.
   */
  async open(): Promise<void> {
    if (this.db) return;
    this.closed = false;
    if (this.options.readOnly) return this.load();
    await mkdir(this.samplesDir, { recursive: true });
    this.lock = await DataDirLock.acquire(this.dataDir, {
      role: this.options.role ?? 'facebank',
      waitMs: this.options.lockWaitMs,
      signal: this.options.signal,
    });
    try {
      await this.load();
    } catch (e) {
      await this.lock.release();
      this.lock = null;
      throw e;
    }
  }

  private async load(): Promise<void> {
    const db = new Low<FacebankData>(new AtomicJsonFile<FacebankData>(this.file), { version: FACEBANK_VERSION, people: [], samples: [] });
    try {
      await db.read();
    } catch (e) {
      throw new FacegateError('facebank_corrupt', `The facebank ${this.file} cannot be read: ${(e as Error).message}`, { cause: e });
    }
    const d = db.data;
    if (!d || typeof d !== 'object' || !Array.isArray(d.people) || !Array.isArray(d.samples)) {
      throw new FacegateError('facebank_corrupt', `The facebank ${this.file} does not hold {version, people, samples}.`);
    }
    if (d.version > FACEBANK_VERSION) {
      throw new FacegateError('facebank_version', `The facebank ${this.file} is version ${d.version}; this facegate reads up to ${FACEBANK_VERSION}.`);
    }
    const ids = new Set(d.people.map((p) => p.id));
    const kept = d.samples.filter((s) => ids.has(s.personId));
    const dropped = d.samples.length - kept.length;
    db.data = {
      version: FACEBANK_VERSION,
      seq: Number.isInteger(d.seq) ? d.seq : 0,
      people: d.people.map((p) => Object.freeze(p)),
      samples: kept.map(freezeSample),
    };
    this.db = db;
    if (this.options.readOnly) return;
    if (dropped > 0) {
      this.options.log?.warn({ dropped }, 'facebank: dropped samples of missing people');
      await db.write();
    }
    await this.cleanOrphans();
  }

  private async cleanOrphans(): Promise<void> {
    const referenced = new Set(this.data().samples.map((s) => `${s.id}.jpg`));
    let removed = 0;
    for (const name of await readdir(this.samplesDir)) {
      if (!referenced.has(name)) {
        await rm(path.join(this.samplesDir, name), { force: true, recursive: true });
        removed++;
      }
    }
    for (const name of await readdir(this.dataDir)) {
      if (TEMP_FILE.test(name) && name.startsWith('.facebank.json.')) await rm(path.join(this.dataDir, name), { force: true });
    }
    if (removed > 0) this.options.log?.info({ removed }, 'facebank: removed orphan crop files');
  }

  /** Wait for pending changes, then refuse further calls and release the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => {});
    this.db = null;
    await this.lock?.release();
    this.lock = null;
  }

  /** Number of the last committed change. */
  get seq(): number {
    return this.data().seq ?? 0;
  }

  private data(): FacebankData {
    if (!this.db) throw new FacegateError('facebank_closed', this.closed ? 'The facebank is closed.' : 'The facebank is not open yet.');
    return this.db.data;
  }

  /**
   * The one change path: run fn alone (after every earlier change); fn returns the next state and what changed,
   * or next null for no change. The change gets the next seq, is saved atomically, then reported.
   */
  private change<R>(fn: (d: FacebankData) => Promise<Step<R>> | Step<R>): Promise<R> {
    if (this.closed) return Promise.reject(new FacegateError('facebank_closed', 'The facebank is closed.'));
    if (this.options.readOnly) return Promise.reject(new FacegateError('facebank_read_only', 'The facebank was opened read-only.'));
    const run = async (): Promise<R> => {
      const db = this.db;
      if (!db) throw new FacegateError('facebank_closed', 'The facebank is not open.');
      const { next, change, result } = await fn(db.data);
      if (next && change) {
        const prev = db.data;
        const seq = (prev.seq ?? 0) + 1;
        db.data = { ...next, seq };
        try {
          await db.write();
        } catch (e) {
          db.data = prev;
          throw new FacegateError('facebank_write', `The facebank could not be saved: ${(e as Error).message}`, { cause: e });
        }
        this.options.bus?.emit('facebankChanged', { ...change, seq, time: new Date().toISOString() } as FacebankChange);
      }
      return result;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  async people(): Promise<Person[]> {
    return this.data().people.slice();
  }

  async person(id: string): Promise<Person | null> {
    return this.data().people.find((p) => p.id === id) ?? null;
  }

  async findByName(name: string): Promise<Person | null> {
    const key = nameKey(name);
    return this.data().people.find((p) => nameKey(p.name) === key) ?? null;
  }

  async samples(personId?: string): Promise<Sample[]> {
    const all = this.data().samples;
    return personId === undefined ? all.slice() : all.filter((s) => s.personId === personId);
  }

  /** Path of a sample's crop; rejects ids that break the id rule (util/ids.ts). */
  cropPath(sampleId: string): string {
    if (!isId(sampleId)) throw new FacegateError('invalid', 'A sample id is 1 to 80 letters, digits, "_" and "-".');
    return path.join(this.samplesDir, `${sampleId}.jpg`);
  }

  private static nameTaken(d: FacebankData, name: string, except?: string): boolean {
    const key = nameKey(name);
    return d.people.some((p) => p.id !== except && nameKey(p.name) === key);
  }

  async createPerson(name: string, notes = ''): Promise<Person> {
    const n = normalizeName(name);
    if (typeof notes !== 'string' || notes.length > 2000) throw new FacegateError('invalid', 'Notes must be text of at most 2000 characters.');
    return this.change((d) => {
      if (Facebank.nameTaken(d, n)) throw new FacegateError('conflict', `A person named "${n}" already exists.`);
      const p: Person = Object.freeze({ id: randomUUID(), name: n, created: new Date().toISOString(), notes });
      return { next: { ...d, people: [...d.people, p] }, change: { op: 'person.create', person: p }, result: p };
    });
  }

  async renamePerson(id: string, name: string): Promise<Person> {
    const n = normalizeName(name);
    return this.change((d) => {
      const old = d.people.find((p) => p.id === id);
      if (!old) throw new FacegateError('not_found', `No person with id ${id}.`);
      if (Facebank.nameTaken(d, n, id)) throw new FacegateError('conflict', `A person named "${n}" already exists.`);
      if (old.name === n) return { next: null, result: old };
      const p: Person = Object.freeze({ ...old, name: n });
      return { next: { ...d, people: d.people.map((x) => (x.id === id ? p : x)) }, change: { op: 'person.rename', person: p }, result: p };
    });
  }

  /** Remove a person, their samples and crops (crops after the JSON commit; leftovers are orphans). */
  async deletePerson(id: string): Promise<void> {
    const gone = await this.change((d) => {
      if (!d.people.some((p) => p.id === id)) throw new FacegateError('not_found', `No person with id ${id}.`);
      const gone = d.samples.filter((s) => s.personId === id).map((s) => s.id);
      const next = { ...d, people: d.people.filter((p) => p.id !== id), samples: d.samples.filter((s) => s.personId !== id) };
      return { next, change: { op: 'person.delete', personId: id, sampleIds: gone }, result: gone };
    });
    await Promise.all(gone.map((sid) => rm(this.cropPath(sid), { force: true })));
  }

  /** Save the crop (JPEG, before the JSON names it), then add the sample. */
  async addSample(personId: string, s: NewSample): Promise<Sample> {
    this.data();
    const embedding = storeEmbedding(s.embedding);
    checkCrop(s.crop);
    if (typeof s.modelId !== 'string' || !s.modelId) throw new FacegateError('invalid', 'A sample needs the embedder model id.');
    if (!(SAMPLE_SOURCES as readonly string[]).includes(s.source))
      throw new FacegateError('invalid', `A sample source is one of ${SAMPLE_SOURCES.join(', ')}.`);
    if (!(await this.person(personId))) throw new FacegateError('not_found', `No person with id ${personId}.`);
    const id = randomUUID();
    const jpeg = await encodeCrop(s.crop);
    const crop = this.cropPath(id);
    await writeFileAtomic(crop, jpeg);
    const sample: Sample = freezeSample({
      id,
      personId,
      embedding,
      modelId: s.modelId,
      quality: { ...s.quality },
      source: s.source,
      created: new Date().toISOString(),
      negative: s.negative === true,
    });
    try {
      return await this.change((d) => {
        if (!d.people.some((p) => p.id === personId)) throw new FacegateError('not_found', `No person with id ${personId}.`);
        return { next: { ...d, samples: [...d.samples, sample] }, change: { op: 'sample.add', sample }, result: sample };
      });
    } catch (e) {
      await rm(crop, { force: true });
      throw e;
    }
  }

  async deleteSample(id: string): Promise<void> {
    await this.change((d) => {
      if (!d.samples.some((s) => s.id === id)) throw new FacegateError('not_found', `No sample with id ${id}.`);
      return { next: { ...d, samples: d.samples.filter((s) => s.id !== id) }, change: { op: 'sample.delete', sampleId: id }, result: undefined };
    });
    await rm(this.cropPath(id), { force: true });
  }

  /** Decode a stored crop back to RGB. */
  readCrop(sampleId: string): Promise<RgbImage> {
    return decodeCrop(this.cropPath(sampleId));
  }

  /** Re-embed every sample of another model from its stored crop (store/reembed.ts); one atomic save at the end. */
  reembed(modelId: string, embedAligned: (crops: RgbImage[]) => Promise<Float32Array[]>, batchSize = 32): Promise<ReembedResult> {
    return reembedSamples(this, modelId, embedAligned, { batchSize, log: this.options.log });
  }

  /** Gives each sample still of model `fresh.old` its new embedding under `modelId`, in one save; returns the ids changed. */
  replaceEmbeddings(modelId: string, fresh: ReadonlyMap<string, FreshEmbedding>): Promise<string[]> {
    const stored = new Map([...fresh].map(([id, f]) => [id, { old: f.old, embedding: storeEmbedding(f.embedding) }]));
    return this.change((d) => {
      const ids: string[] = [];
      const samples = d.samples.map((s) => {
        const f = stored.get(s.id);
        if (!f || s.modelId !== f.old) return s;
        ids.push(s.id);
        return freezeSample({ ...s, embedding: f.embedding, modelId });
      });
      return ids.length ? { next: { ...d, samples }, change: { op: 'reembed', modelId, sampleIds: ids }, result: ids } : { next: null, result: ids };
    });
  }

  /**
   * Apply a batch of records as given (e.g. from another appliance), in order, in one atomic save, reported as one
   * { op: 'replace', remote: true } change. Names are not checked here: the caller (the facebank's owner) does.
   * Returns the ids of samples not added because their person is not here (the caller keeps them until it arrives).
   */
  async applyBatch(ops: readonly RecordOp[]): Promise<{ orphans: string[] }> {
    const adds = ops.filter((o): o is Extract<RecordOp, { op: 'sample' }> => o.op === 'sample');
    for (const o of adds) await writeFileAtomic(this.cropPath(o.sample.id), o.jpeg);
    const { removed, orphans } = await this.change((d) => {
      let people = d.people;
      let samples = d.samples;
      const removed: string[] = [];
      const orphans: string[] = [];
      for (const o of ops) {
        if (o.op === 'person') {
          const p: Person = Object.freeze({ id: o.person.id, name: normalizeName(o.person.name), created: o.person.created, notes: o.person.notes });
          people = people.some((x) => x.id === p.id) ? people.map((x) => (x.id === p.id ? p : x)) : [...people, p];
        } else if (o.op === 'person.delete') {
          people = people.filter((x) => x.id !== o.id);
          removed.push(...samples.filter((x) => x.personId === o.id).map((x) => x.id));
          samples = samples.filter((x) => x.personId !== o.id);
        } else if (o.op === 'sample') {
          if (!people.some((x) => x.id === o.sample.personId)) orphans.push(o.sample.id);
          else if (!samples.some((x) => x.id === o.sample.id))
            samples = [...samples, freezeSample({ ...o.sample, embedding: storeEmbedding(o.sample.embedding), quality: { ...o.sample.quality } })];
        } else if (samples.some((x) => x.id === o.id)) {
          samples = samples.filter((x) => x.id !== o.id);
          removed.push(o.id);
        }
      }
      const result = { removed, orphans };
      if (people === d.people && samples === d.samples) return { next: null, result };
      return { next: { ...d, people, samples }, change: { op: 'replace', remote: true }, result };
    });
    const kept = new Set(this.data().samples.map((x) => x.id));
    const stray = [...removed, ...adds.map((o) => o.sample.id)].filter((id) => !kept.has(id));
    await Promise.all(stray.map((sid) => rm(this.cropPath(sid), { force: true })));
    return { orphans };
  }
}
