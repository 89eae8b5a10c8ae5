/**
 * The facebank's records in memory (people, samples, indexes by person and by name) and the checks every record
 * read from disk passes before it is applied: a frame that breaks the schema is refused with the record and field.
 */
import { z } from 'zod';
import { formatIssues } from '../config/issues.js';
import { FacegateError } from '../util/errors.js';
import { ID_RE } from '../util/ids.js';
import type { JournalMeta, JournalOp, RawFrame } from './facebank-codec.js';
import { nameKey } from './names.js';
import { personSchema, SAMPLE_SOURCES, sampleSchema, type Person, type Sample } from './types.js';

const id = z.string().regex(ID_RE, 'an id of 1 to 80 letters, digits, - and _');
const dim = z.number().int().min(1).max(4096);
const opSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('person'), person: personSchema.strict() }),
  z.object({ t: z.literal('person.delete'), id }),
  z.object({ t: z.literal('sample'), sample: sampleSchema.omit({ embedding: true }).strict(), dim }),
  z.object({ t: z.literal('sample.delete'), id }),
  z.object({ t: z.literal('embedding'), id, modelId: z.string().min(1), dim }),
]);
const seq = z.number().int().min(0);
const QUALITY_KEYS = ['size', 'score', 'blur', 'yaw', 'pitch', 'roll'] as const;
const SOURCES = new Set<unknown>(SAMPLE_SOURCES);
const isId = (v: unknown) => typeof v === 'string' && ID_RE.test(v);
const isTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** The common case checked by hand (zod is the definition, and words the refusal when this says no). */
function plainOp(o: unknown): boolean {
  if (o === null || typeof o !== 'object') return false;
  const r = o as Record<string, unknown>;
  if (r.t === 'sample' && Object.keys(r).length === 3) {
    const d = r.dim;
    const m = r.sample as Record<string, unknown> | null;
    if (!(Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 4096) || m === null || typeof m !== 'object' || Object.keys(m).length !== 7)
      return false;
    const q = m.quality as Record<string, unknown> | null;
    if (q === null || typeof q !== 'object' || Object.keys(q).length !== QUALITY_KEYS.length) return false;
    for (const k of QUALITY_KEYS) if (typeof q[k] !== 'number' || !Number.isFinite(q[k])) return false;
    return (
      isId(m.id) &&
      isId(m.personId) &&
      typeof m.modelId === 'string' &&
      m.modelId.length > 0 &&
      SOURCES.has(m.source) &&
      isTime(m.created) &&
      typeof m.negative === 'boolean'
    );
  }
  return false;
}
const changeSchema = z.object({ seq, ops: z.array(opSchema).min(1) }).strict();
const metaSchema = z
  .object({
    meta: z.object({ format: z.literal('facegate-facebank'), version: z.literal(2), seq, imported: z.string().optional() }).strict(),
  })
  .strict();

/** A frame read from `file`, checked: the meta frame or a change; throws a sentence naming the record and field. */
export function checkFrame(file: string, raw: RawFrame, index: number): { meta: JournalMeta } | { seq: number; ops: JournalOp[] } {
  const where = `frame ${index} (byte ${raw.offset})`;
  const refuse = (what: string) => refused(file, `${where} ${what}`);
  if (index === 0) {
    const m = metaSchema.safeParse(raw.header);
    if (!m.success) throw refuse(`is not the journal's header: ${formatIssues(m.error.issues).slice(0, 3).join('; ')}`);
    return { meta: m.data.meta as JournalMeta };
  }
  const h = raw.header as { seq?: unknown; ops?: unknown[] } | null;
  // Frames of samples (most of a journal) are checked by hand; anything else, or anything odd, by the schema.
  const plain =
    h !== null &&
    typeof h === 'object' &&
    Object.keys(h).length === 2 &&
    Number.isInteger(h.seq) &&
    (h.seq as number) >= 0 &&
    Array.isArray(h.ops) &&
    h.ops.length > 0 &&
    h.ops.every(plainOp);
  let data: z.infer<typeof changeSchema>;
  if (plain) data = h as z.infer<typeof changeSchema>;
  else {
    const c = changeSchema.safeParse(raw.header);
    if (!c.success) throw refuse(`breaks the schema: ${formatIssues(c.error.issues).slice(0, 3).join('; ')}`);
    data = c.data;
  }
  const ops: JournalOp[] = [];
  let at = 0;
  for (const [k, o] of data.ops.entries()) {
    if (o.t === 'sample' || o.t === 'embedding') {
      if (at + o.dim > raw.floats.length) throw refuse(`ops[${k}] announces ${o.dim} embedding values the frame does not hold`);
      const embedding = raw.floats.subarray(at, at + o.dim);
      at += o.dim;
      for (let i = 0; i < embedding.length; i++)
        if (!Number.isFinite(embedding[i])) throw refuse(`ops[${k}] (sample ${o.t === 'sample' ? o.sample.id : o.id}).embedding[${i}] is not a finite number`);
      ops.push(o.t === 'sample' ? { t: 'sample', sample: o.sample, embedding } : { t: 'embedding', id: o.id, modelId: o.modelId, embedding });
    } else ops.push(o);
  }
  if (at !== raw.floats.length) throw refuse(`holds ${raw.floats.length - at} embedding values no op announces`);
  return { seq: data.seq, ops };
}

/** The sentence for a facebank file that cannot be used, with the way out. */
export function refused(file: string, what: string): FacegateError {
  return new FacegateError(
    'facebank_corrupt',
    `The facebank ${file} is refused: ${what}. Nothing was loaded or changed; restore a backup (facegate restore <file.fgbak>) or move ${file} aside to start with an empty facebank.`,
  );
}

const freeze = <T extends object>(o: T): T => Object.freeze(o);

export class FacebankState {
  readonly people = new Map<string, Person>();
  readonly samples = new Map<string, Sample>();
  private readonly byPerson = new Map<string, Set<string>>();
  private readonly byName = new Map<string, string>();
  /** Embedding size last seen (for the compaction estimate). */
  dim = 0;
  /** Samples skipped at replay because their person was gone. */
  strays = 0;

  personByName(name: string): Person | undefined {
    const pid = this.byName.get(nameKey(name));
    return pid === undefined ? undefined : this.people.get(pid);
  }

  samplesOf(personId: string): Sample[] {
    const ids = this.byPerson.get(personId);
    return ids ? [...ids].map((sid) => this.samples.get(sid)!) : [];
  }

  /** Applies one checked op; never throws, so a frame's ops are applied whole. */
  apply(o: JournalOp): void {
    if (o.t === 'person') {
      const old = this.people.get(o.person.id);
      if (old && this.byName.get(nameKey(old.name)) === old.id) this.byName.delete(nameKey(old.name));
      this.people.set(o.person.id, freeze({ ...o.person }));
      this.byName.set(nameKey(o.person.name), o.person.id);
    } else if (o.t === 'person.delete') {
      const old = this.people.get(o.id);
      if (!old) return;
      this.people.delete(o.id);
      if (this.byName.get(nameKey(old.name)) === old.id) this.byName.delete(nameKey(old.name));
      for (const sid of this.byPerson.get(o.id) ?? []) this.samples.delete(sid);
      this.byPerson.delete(o.id);
    } else if (o.t === 'sample') {
      if (!this.people.has(o.sample.personId)) {
        this.strays++;
        return;
      }
      this.removeSample(o.sample.id);
      const m = o.sample;
      const q = m.quality;
      // One shape for every sample, and strings shared with the person and the other samples (memory at 50,000).
      const sample: Sample = {
        id: m.id,
        personId: this.people.get(m.personId)!.id,
        embedding: o.embedding,
        modelId: this.intern(m.modelId),
        quality: freeze({ size: q.size, score: q.score, blur: q.blur, yaw: q.yaw, pitch: q.pitch, roll: q.roll }),
        source: this.intern(m.source),
        created: m.created,
        negative: m.negative,
      };
      this.samples.set(m.id, freeze(sample));
      let set = this.byPerson.get(o.sample.personId);
      if (!set) this.byPerson.set(o.sample.personId, (set = new Set()));
      set.add(o.sample.id);
      this.dim = o.embedding.length;
    } else if (o.t === 'sample.delete') {
      this.removeSample(o.id);
    } else {
      const s = this.samples.get(o.id);
      if (s) this.samples.set(o.id, freeze({ ...s, modelId: this.intern(o.modelId), embedding: o.embedding }));
    }
  }

  private readonly strings = new Map<string, string>();
  /** One copy of a string many samples hold (model id, source). */
  private intern<T extends string>(v: T): T {
    const had = this.strings.get(v);
    if (had !== undefined) return had as T;
    this.strings.set(v, v);
    return v;
  }

  private removeSample(sid: string): void {
    const s = this.samples.get(sid);
    if (!s) return;
    this.samples.delete(sid);
    this.byPerson.get(s.personId)?.delete(sid);
  }

  /** About how many bytes a compacted journal of this state takes. */
  estimateBytes(): number {
    return 64 + this.people.size * 160 + this.samples.size * (340 + 4 * (this.dim || 512));
  }
}
