/**
 * The facebank: people and their face samples in <dataDir>/facebank.journal, an append-only binary journal
 * (store/facebank-journal.ts: one checksummed frame per change, embeddings as float32), held in memory and rewritten
 * compact in the background when it has grown past twice its records; aligned crops as <dataDir>/samples/<id>.jpg.
 * A change costs one frame written and fdatasync'd, whatever the facebank's size. One writer: an open Facebank holds
 * the data directory's lock (store/lock.ts); inside the process all changes go through one queue, in order, each
 * numbered (`seq`, kept in the journal) and reported as a FacebankChange only after it is on disk; a failed write
 * changes nothing (disk or memory). A crop is on disk before the frame that names it; files nobody names (and temp
 * files) are removed at open, under the lock. An older facebank.json is imported once at open (renamed
 * facebank.json.imported, never deleted). A file that breaks the schema is refused, never loaded in part.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { Bus } from '../events/bus.js';
import { FacegateError } from '../util/errors.js';
import { normalizeName } from './names.js';
import type { Logger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import { fsyncDir, tempBeside, TEMP_FILE, writeFileAtomic } from './atomic.js';
import { DataDirLock } from './lock.js';
import { personSchema, SAMPLE_SOURCES, sampleSchema, type FacebankChange, type NewSample, type Person, type RecordOp, type Sample } from './types.js';
import { formatIssues } from '../config/issues.js';
import { encodeFrame, type JournalMeta, type JournalOp, type SampleMeta } from './facebank-codec.js';
import { FacebankState, refused } from './facebank-state.js';
import { compactedFrames, JOURNAL_FILE, JournalAppender, loadJournalFile, writeJournalFile } from './facebank-journal.js';
import { LEGACY_FILE, parseLegacy, sha256Of } from './facebank-legacy.js';

export type { FacebankChange, RecordOp };
import { isId } from '../util/ids.js';
import { checkCrop, decodeCrop, encodeCrop } from './crops.js';
import { reembedSamples, type FreshEmbedding, type ReembedResult } from './reembed.js';

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
  /** Read the files as they are, without the lock: no import, no repairs, every change refused (e.g. `facegate scan`). */
  readOnly?: boolean;
  /** The journal is compacted once it is larger than this and twice its records (default 1 MiB). */
  compactMinBytes?: number;
}

/** What a change does: the journal ops (applied to memory once on disk), the change reported, and the result. */
type Step<R> = { ops: JournalOp[]; change: ChangeBody; result: R } | { ops: null; change?: undefined; result: R };

/** L2-normalised float32 copy; refuses empty, non-finite and zero vectors. */
function storeEmbedding(e: Float32Array | readonly number[]): Float32Array {
  if (!(e instanceof Float32Array || Array.isArray(e)) || e.length === 0)
    throw new FacegateError('invalid', 'The embedding must be a non-empty list of numbers.');
  let n = 0;
  for (let i = 0; i < e.length; i++) n += e[i]! * e[i]!;
  if (!Number.isFinite(n) || n === 0) throw new FacegateError('invalid', 'The embedding must be finite and not all zero.');
  const inv = 1 / Math.sqrt(n);
  return Float32Array.from(e, (v: number) => v * inv);
}

const writeFailed = (e: unknown) =>
  new FacegateError(
    'facebank_write',
    `The facebank could not be saved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was changed. Free space on the data disk (or fix the disk) and try again.`,
    { cause: e },
  );

export class Facebank {
  readonly file: string;
  readonly samplesDir: string;
  private state: FacebankState | null = null;
  private meta: JournalMeta | null = null;
  private lastSeq = 0;
  private appender: JournalAppender | null = null;
  private lock: DataDirLock | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Frames committed while a compaction runs: appended to the new file before it replaces the old one. */
  private tail: Buffer[] | null = null;
  private compaction: Promise<void> | null = null;

  constructor(
    readonly dataDir: string,
    private readonly options: FacebankOptions = {},
  ) {
    this.file = path.join(dataDir, JOURNAL_FILE);
    this.samplesDir = path.join(dataDir, 'samples');
  }

  /**
   * Take the data directory's lock (LockedError when another process writes it), read and check the journal
   * (importing an older facebank.json first, or starting empty), cut a torn tail, delete orphan crops and temp files.
   */
  async open(): Promise<void> {
    if (this.state) return;
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
      await this.appender?.close().catch(() => {});
      this.appender = null;
      this.state = null;
      await this.lock.release();
      this.lock = null;
      throw e;
    }
  }

  private async load(): Promise<void> {
    const legacyFile = path.join(this.dataDir, LEGACY_FILE);
    const readJournal = () =>
      loadJournalFile(this.file).catch((e: unknown) => {
        if (e instanceof FacegateError) throw e;
        throw new FacegateError('facebank_corrupt', `The facebank ${this.file} cannot be read: ${(e as Error).message}`, { cause: e });
      });
    let j = await readJournal();
    const legacy = existsSync(legacyFile) ? await readFile(legacyFile) : null;
    const ro = this.options.readOnly === true;
    if (legacy && !j) {
      const old = parseLegacy(legacyFile, legacy);
      if (ro) return this.adopt({ imported: old.sha256, seq: old.seq }, old.people, old.samples);
      const meta: JournalMeta = { format: 'facegate-facebank', version: 2, seq: old.seq, imported: old.sha256 };
      await writeJournalFile(this.file, compactedFrames(meta, old.people, old.samples));
      j = await readJournal();
      this.options.log?.info(
        { from: legacyFile, to: this.file, people: old.people.length, samples: old.samples.length, dropped: old.dropped },
        `facebank: imported ${legacyFile} into ${this.file}; the old file is kept as ${legacyFile}.imported`,
      );
    }
    if (!j && !ro) {
      const meta: JournalMeta = { format: 'facegate-facebank', version: 2, seq: 0 };
      await writeJournalFile(this.file, compactedFrames(meta, [], []));
      j = await readJournal();
    }
    if (!j) return this.adopt({ seq: 0 }, [], []);
    if (legacy) {
      if (j.meta.imported !== sha256Of(legacy))
        throw refused(legacyFile, `it is beside ${this.file} and is not the file that journal was imported from, so which one holds the facebank is unclear`);
      if (!ro) await this.setLegacyAside(legacyFile);
    }
    if (j.state.strays) this.options.log?.warn({ dropped: j.state.strays }, 'facebank: dropped samples of missing people');
    this.state = j.state;
    this.meta = j.meta;
    this.lastSeq = j.seq;
    if (ro) return;
    this.appender = new JournalAppender(this.file, j.size);
    if (j.cut) {
      await this.appender.cut();
      this.options.log?.warn(
        { file: this.file, bytes: j.cut, at: j.size },
        'facebank: cut off a torn last change (a write interrupted by a crash; it was never acknowledged)',
      );
    }
    await this.cleanOrphans();
    this.maybeCompact();
  }

  /** Read-only view of records not (yet) in a journal. */
  private adopt(meta: { seq: number; imported?: string }, people: Person[], samples: Sample[]): void {
    const st = new FacebankState();
    for (const person of people) st.apply({ t: 'person', person });
    for (const { embedding, ...sample } of samples) st.apply({ t: 'sample', sample, embedding });
    this.state = st;
    this.meta = { format: 'facegate-facebank', version: 2, ...meta };
    this.lastSeq = meta.seq;
  }

  private async setLegacyAside(legacyFile: string): Promise<void> {
    let aside = `${legacyFile}.imported`;
    if (existsSync(aside)) aside = `${legacyFile}.imported-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(legacyFile, aside);
    await fsyncDir(this.dataDir);
  }

  private async cleanOrphans(): Promise<void> {
    const referenced = new Set([...this.st().samples.keys()].map((id) => `${id}.jpg`));
    let removed = 0;
    for (const name of await readdir(this.samplesDir)) {
      if (!referenced.has(name)) {
        await rm(path.join(this.samplesDir, name), { force: true, recursive: true });
        removed++;
      }
    }
    for (const name of await readdir(this.dataDir)) {
      if (TEMP_FILE.test(name) && (name.startsWith(`.${JOURNAL_FILE}.`) || name.startsWith(`.${LEGACY_FILE}.`)))
        await rm(path.join(this.dataDir, name), { force: true });
    }
    if (removed > 0) this.options.log?.info({ removed }, 'facebank: removed orphan crop files');
  }

  /** Wait for pending changes and a running compaction, then refuse further calls and release the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => {});
    await this.compaction?.catch(() => {});
    await this.appender?.close().catch(() => {});
    this.appender = null;
    this.state = null;
    await this.lock?.release();
    this.lock = null;
  }

  /** Number of the last committed change. */
  get seq(): number {
    this.st();
    return this.lastSeq;
  }

  get readOnly(): boolean {
    return this.options.readOnly === true;
  }

  private st(): FacebankState {
    if (!this.state) throw new FacegateError('facebank_closed', this.closed ? 'The facebank is closed.' : 'The facebank is not open yet.');
    return this.state;
  }

  /**
   * The one change path: run fn alone (after every earlier change); fn checks against the current records and
   * returns the ops, or null for no change. The ops get the next seq, are written as one frame, then applied in
   * memory and reported. A failed write leaves disk and memory as they were.
   */
  private change<R>(fn: (st: FacebankState) => Promise<Step<R>> | Step<R>): Promise<R> {
    if (this.closed) return Promise.reject(new FacegateError('facebank_closed', 'The facebank is closed.'));
    if (this.options.readOnly) return Promise.reject(new FacegateError('facebank_read_only', 'The facebank was opened read-only.'));
    const run = async (): Promise<R> => {
      const st = this.state;
      const appender = this.appender;
      if (!st || !appender) throw new FacegateError('facebank_closed', 'The facebank is not open.');
      const { ops, change, result } = await fn(st);
      if (ops && change) {
        const seq = this.lastSeq + 1;
        const frame = encodeFrame({ seq, ops });
        try {
          await appender.append(frame);
        } catch (e) {
          throw writeFailed(e);
        }
        this.tail?.push(frame);
        for (const o of ops) st.apply(o);
        this.lastSeq = seq;
        this.options.bus?.emit('facebankChanged', { ...change, seq, time: new Date().toISOString() } as FacebankChange);
        this.maybeCompact();
      }
      return result;
    };
    return this.enqueue(run);
  }

  private enqueue<R>(run: () => Promise<R>): Promise<R> {
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /** Starts a compaction in the background when the journal holds more than twice its records. */
  private maybeCompact(): void {
    const st = this.state;
    const size = this.appender?.size ?? 0;
    if (!st || this.compaction || this.closed) return;
    if (size <= (this.options.compactMinBytes ?? 1 << 20) || size <= 2 * st.estimateBytes()) return;
    this.compaction = this.compact()
      .catch((e: unknown) =>
        this.options.log?.warn({ err: e, file: this.file }, 'facebank: compaction failed; the journal is kept as it is and tried again later'),
      )
      .finally(() => {
        this.compaction = null;
      });
  }

  /**
   * Writes the current records to a new file off the change path (yielding between chunks), then, inside the
   * change queue, adds the frames committed meanwhile and renames it over the journal.
   */
  async compact(): Promise<void> {
    const st = this.st();
    const appender = this.appender;
    if (!appender || this.tail) return;
    // The snapshot and the start of the tail are taken together: every later commit lands in the tail.
    const meta: JournalMeta = { ...this.meta!, seq: this.lastSeq };
    const people = [...st.people.values()];
    const samples = [...st.samples.values()];
    this.tail = [];
    const before = appender.size;
    const tmp = tempBeside(this.file);
    let h: FileHandle | null = null;
    try {
      h = await open(tmp, 'w', 0o600);
      let size = 0;
      for (const b of compactedFrames(meta, people, samples)) {
        await h.write(b);
        size += b.length;
        await yieldNow();
      }
      await h.sync();
      const fh = h;
      await this.enqueue(async () => {
        // Inside the change queue: nothing is appended to the old file from here to the rename.
        for (const b of this.tail ?? []) size += (await fh.write(b)).bytesWritten;
        await fh.sync();
        await fh.close();
        h = null;
        await rename(tmp, this.file);
        this.tail = null;
        await appender.reopen(size);
        await fsyncDir(this.dataDir);
      });
      this.options.log?.info({ file: this.file, before, after: size }, 'facebank: journal compacted');
    } catch (e) {
      await h?.close().catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    } finally {
      this.tail = null;
    }
  }

  async people(): Promise<Person[]> {
    return [...this.st().people.values()];
  }

  async person(id: string): Promise<Person | null> {
    return this.st().people.get(id) ?? null;
  }

  async findByName(name: string): Promise<Person | null> {
    return this.st().personByName(name) ?? null;
  }

  async samples(personId?: string): Promise<Sample[]> {
    const st = this.st();
    return personId === undefined ? [...st.samples.values()] : st.samplesOf(personId);
  }

  /** Path of a sample's crop; rejects ids that break the id rule (util/ids.ts). */
  cropPath(sampleId: string): string {
    if (!isId(sampleId)) throw new FacegateError('invalid', 'A sample id is 1 to 80 letters, digits, "_" and "-".');
    return path.join(this.samplesDir, `${sampleId}.jpg`);
  }

  private static nameTaken(st: FacebankState, name: string, except?: string): boolean {
    const p = st.personByName(name);
    return p !== undefined && p.id !== except;
  }

  async createPerson(name: string, notes = ''): Promise<Person> {
    const n = normalizeName(name);
    if (typeof notes !== 'string' || notes.length > 2000) throw new FacegateError('invalid', 'Notes must be text of at most 2000 characters.');
    return this.change((st) => {
      if (Facebank.nameTaken(st, n)) throw new FacegateError('conflict', `A person named "${n}" already exists.`);
      const p: Person = Object.freeze({ id: randomUUID(), name: n, created: new Date().toISOString(), notes });
      return { ops: [{ t: 'person', person: p }], change: { op: 'person.create', person: p }, result: p };
    });
  }

  async renamePerson(id: string, name: string): Promise<Person> {
    const n = normalizeName(name);
    return this.change((st) => {
      const old = st.people.get(id);
      if (!old) throw new FacegateError('not_found', `No person with id ${id}.`);
      if (Facebank.nameTaken(st, n, id)) throw new FacegateError('conflict', `A person named "${n}" already exists.`);
      if (old.name === n) return { ops: null, result: old };
      const p: Person = Object.freeze({ ...old, name: n });
      return { ops: [{ t: 'person', person: p }], change: { op: 'person.rename', person: p }, result: p };
    });
  }

  /** Remove a person and their samples (one small frame), then their crops (leftovers are orphans, removed at open). */
  async deletePerson(id: string): Promise<void> {
    const gone = await this.change((st) => {
      if (!st.people.has(id)) throw new FacegateError('not_found', `No person with id ${id}.`);
      const gone = st.samplesOf(id).map((s) => s.id);
      return { ops: [{ t: 'person.delete', id }], change: { op: 'person.delete', personId: id, sampleIds: gone }, result: gone };
    });
    await Promise.all(gone.map((sid) => rm(this.cropPath(sid), { force: true })));
  }

  /** Save the crop (JPEG, before the journal names it), then add the sample. */
  async addSample(personId: string, s: NewSample): Promise<Sample> {
    this.st();
    const embedding = storeEmbedding(s.embedding);
    checkCrop(s.crop);
    if (typeof s.modelId !== 'string' || !s.modelId) throw new FacegateError('invalid', 'A sample needs the embedder model id.');
    if (!(SAMPLE_SOURCES as readonly string[]).includes(s.source))
      throw new FacegateError('invalid', `A sample source is one of ${SAMPLE_SOURCES.join(', ')}.`);
    if (!(await this.person(personId))) throw new FacegateError('not_found', `No person with id ${personId}.`);
    const meta = checkSampleMeta({
      id: randomUUID(),
      personId,
      modelId: s.modelId,
      quality: { ...s.quality },
      source: s.source,
      created: new Date().toISOString(),
      negative: s.negative === true,
    });
    const jpeg = await encodeCrop(s.crop);
    const crop = this.cropPath(meta.id);
    await writeFileAtomic(crop, jpeg).catch((e: unknown) => {
      throw writeFailed(e);
    });
    try {
      return await this.change((st) => {
        if (!st.people.has(personId)) throw new FacegateError('not_found', `No person with id ${personId}.`);
        const sample: Sample = Object.freeze({ ...meta, embedding });
        return { ops: [{ t: 'sample', sample: meta, embedding }], change: { op: 'sample.add', sample }, result: sample };
      });
    } catch (e) {
      await rm(crop, { force: true });
      throw e;
    }
  }

  async deleteSample(id: string): Promise<void> {
    await this.change((st) => {
      if (!st.samples.has(id)) throw new FacegateError('not_found', `No sample with id ${id}.`);
      return { ops: [{ t: 'sample.delete', id }], change: { op: 'sample.delete', sampleId: id }, result: undefined };
    });
    await rm(this.cropPath(id), { force: true });
  }

  /** Decode a stored crop back to RGB. */
  readCrop(sampleId: string): Promise<RgbImage> {
    return decodeCrop(this.cropPath(sampleId));
  }

  /** Re-embed every sample of another model from its stored crop (store/reembed.ts); one change at the end. */
  reembed(modelId: string, embedAligned: (crops: RgbImage[]) => Promise<Float32Array[]>, batchSize = 32): Promise<ReembedResult> {
    return reembedSamples(this, modelId, embedAligned, { batchSize, log: this.options.log });
  }

  /** Gives each sample still of model `fresh.old` its new embedding under `modelId`, in one change; returns the ids changed. */
  replaceEmbeddings(modelId: string, fresh: ReadonlyMap<string, FreshEmbedding>): Promise<string[]> {
    if (typeof modelId !== 'string' || !modelId) throw new FacegateError('invalid', 'reembed needs the new model id.');
    const stored = new Map([...fresh].map(([id, f]) => [id, { old: f.old, embedding: storeEmbedding(f.embedding) }]));
    return this.change((st) => {
      const ops: JournalOp[] = [];
      for (const [id, f] of stored) if (st.samples.get(id)?.modelId === f.old) ops.push({ t: 'embedding', id, modelId, embedding: f.embedding });
      const ids = ops.map((o) => (o as { id: string }).id);
      return ids.length ? { ops, change: { op: 'reembed', modelId, sampleIds: ids }, result: ids } : { ops: null, result: ids };
    });
  }

  /**
   * Apply a batch of records as given (e.g. from another appliance), in order, as one change reported as
   * { op: 'replace', remote: true }. Names are not checked here: the caller (the facebank's owner) does.
   * Returns the ids of samples not added because their person is not here (the caller keeps them until it arrives).
   */
  async applyBatch(ops: readonly RecordOp[]): Promise<{ orphans: string[] }> {
    this.st();
    const adds = ops.filter((o): o is Extract<RecordOp, { op: 'sample' }> => o.op === 'sample');
    // Checked before anything is written: a record the journal would refuse at the next open is refused now.
    const checked = new Map(adds.map((o) => [o, { meta: checkSampleMeta(sampleMetaOf(o.sample)), embedding: storeEmbedding(o.sample.embedding) }]));
    const people = ops.flatMap((o) => (o.op === 'person' ? [o] : []));
    const named = new Map(
      people.map((o) => [o, checkPerson({ id: o.person.id, name: normalizeName(o.person.name), created: o.person.created, notes: o.person.notes })]),
    );
    try {
      for (const o of adds) await writeFileAtomic(this.cropPath(o.sample.id), o.jpeg);
    } catch (e) {
      await Promise.all(adds.map((o) => rm(this.cropPath(o.sample.id), { force: true })));
      throw writeFailed(e);
    }
    let removed: string[] = [];
    let orphans: string[] = [];
    try {
      ({ removed, orphans } = await this.change((st) => {
        // The batch's effect, followed over the current records without changing them.
        const here = new Map<string, boolean>();
        const owner = new Map<string, string | null>();
        const hasPerson = (pid: string) => here.get(pid) ?? st.people.has(pid);
        const ownerOf = (sid: string) => (owner.has(sid) ? owner.get(sid)! : (st.samples.get(sid)?.personId ?? null));
        const removed: string[] = [];
        const orphans: string[] = [];
        const out: JournalOp[] = [];
        for (const o of ops) {
          if (o.op === 'person') {
            const p = named.get(o)!;
            const old = here.get(p.id) === false ? undefined : st.people.get(p.id);
            here.set(p.id, true);
            if (!old || old.name !== p.name || old.created !== p.created || old.notes !== p.notes) out.push({ t: 'person', person: p });
          } else if (o.op === 'person.delete') {
            if (!hasPerson(o.id)) continue;
            here.set(o.id, false);
            const mine = [...st.samplesOf(o.id).map((s) => s.id), ...[...owner].filter(([, pid]) => pid === o.id).map(([sid]) => sid)];
            for (const sid of mine)
              if (ownerOf(sid) === o.id) {
                owner.set(sid, null);
                removed.push(sid);
              }
            out.push({ t: 'person.delete', id: o.id });
          } else if (o.op === 'sample') {
            const c = checked.get(o)!;
            if (!hasPerson(c.meta.personId)) orphans.push(c.meta.id);
            else if (ownerOf(c.meta.id) === null) {
              owner.set(c.meta.id, c.meta.personId);
              out.push({ t: 'sample', sample: c.meta, embedding: c.embedding });
            }
          } else if (ownerOf(o.id) !== null) {
            owner.set(o.id, null);
            removed.push(o.id);
            out.push({ t: 'sample.delete', id: o.id });
          }
        }
        const result = { removed, orphans };
        return out.length ? { ops: out, change: { op: 'replace', remote: true }, result } : { ops: null, result };
      }));
    } catch (e) {
      const st = this.state;
      await Promise.all(adds.filter((o) => !st?.samples.has(o.sample.id)).map((o) => rm(this.cropPath(o.sample.id), { force: true })));
      throw e;
    }
    const st = this.st();
    const stray = [...removed, ...adds.map((o) => o.sample.id)].filter((id) => !st.samples.has(id));
    await Promise.all(stray.map((sid) => rm(this.cropPath(sid), { force: true })));
    return { orphans };
  }
}

const sampleMetaSchema = sampleSchema.omit({ embedding: true }).strict();

/** A sample record without its embedding, as the journal checks it at open (so it is refused now, not then). */
function checkSampleMeta(m: SampleMeta): SampleMeta {
  const r = sampleMetaSchema.safeParse(m);
  if (!r.success) throw new FacegateError('invalid', `The sample breaks the record schema: ${formatIssues(r.error.issues).slice(0, 3).join('; ')}.`);
  return r.data;
}

function checkPerson(p: Person): Person {
  const r = personSchema.strict().safeParse(p);
  if (!r.success) throw new FacegateError('invalid', `The person breaks the record schema: ${formatIssues(r.error.issues).slice(0, 3).join('; ')}.`);
  return Object.freeze(r.data);
}

function sampleMetaOf(s: Sample): SampleMeta {
  return { id: s.id, personId: s.personId, modelId: s.modelId, quality: { ...s.quality }, source: s.source, created: s.created, negative: s.negative };
}

/** The facebank in `dataDir` as its files hold it now (journal, or a facebank.json not yet imported), read without the lock. */
export async function readFacebankFiles(dataDir: string): Promise<{ seq: number; people: Person[]; samples: Sample[] }> {
  const fb = new Facebank(dataDir, { readOnly: true });
  await fb.open();
  try {
    return { seq: fb.seq, people: await fb.people(), samples: await fb.samples() };
  } finally {
    await fb.close();
  }
}
