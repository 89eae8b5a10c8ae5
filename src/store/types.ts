/**
 * Facebank records. The zod schemas are the one definition of their JSON form (a facebank.json of the older
 * format, backups, records from other appliances) and check every record the store reads; in memory a sample
 * holds its embedding as a Float32Array (`Sample`), on disk the journal keeps it as binary float32
 * (store/facebank-journal.ts). Crops live in <dataDir>/samples/<id>.jpg.
 */
import { z } from 'zod';
import type { FaceQuality, RgbImage } from '../vision/types.js';
import { ID_RE } from '../util/ids.js';

const id = z.string().regex(ID_RE, 'an id of 1 to 80 letters, digits, - and _');
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date-time');
const finite = z.number().finite();

export const personSchema = z.object({ id, name: z.string().min(1), created: isoTime, notes: z.string() });

export const faceQualitySchema = z.object({
  size: finite,
  score: finite,
  blur: finite,
  yaw: finite,
  pitch: finite,
  roll: finite,
}) satisfies z.ZodType<FaceQuality>;

/** Where a sample came from. */
export const SAMPLE_SOURCES = ['upload', 'camera', 'event', 'unknown', 'cli'] as const;

export const sampleSchema = z.object({
  id,
  personId: id,
  /** L2-normalised embedding from model `modelId`. */
  embedding: z.array(finite).min(1),
  modelId: z.string().min(1),
  quality: faceQualitySchema,
  source: z.enum(SAMPLE_SOURCES),
  created: isoTime,
  /** A "not this person" sample: the matcher keeps faces like it away from personId. */
  negative: z.boolean(),
});

export type Person = z.infer<typeof personSchema>;
/** A sample in its JSON form (embedding as a list of numbers). */
export type SampleRecord = z.infer<typeof sampleSchema>;
/** A sample in memory: its L2-normalised embedding as float32. */
export type Sample = Omit<SampleRecord, 'embedding'> & { embedding: Float32Array };
export type SampleSource = Sample['source'];

/** A sample to add: the facebank gives it an id and a time, stores the embedding L2-normalised and the crop as JPEG. */
export interface NewSample {
  /** Any scale; stored L2-normalised. */
  embedding: Float32Array | readonly number[];
  modelId: string;
  quality: FaceQuality;
  source: SampleSource;
  /** The face crop kept beside the sample (served as its thumbnail). */
  crop: RgbImage;
  negative?: boolean;
}

/** One committed facebank change, in commit order (announced on the bus as 'facebankChanged'). */
export type FacebankChange = {
  seq: number;
  time: string;
  /** Applied as given by applyBatch (records from elsewhere): not to be re-published. */ remote?: true;
} & (
  | { op: 'person.create'; person: Person }
  | { op: 'person.rename'; person: Person }
  | { op: 'person.delete'; personId: string; sampleIds: string[] }
  | { op: 'sample.add'; sample: Sample }
  | { op: 'sample.delete'; sampleId: string }
  | { op: 'reembed'; modelId: string; sampleIds: string[] }
  | { op: 'replace' }
);

/** One record to apply as given (a batch from another appliance): person upsert or removal, sample add or removal. */
export type RecordOp =
  { op: 'person'; person: Person } | { op: 'person.delete'; id: string } | { op: 'sample'; sample: Sample; jpeg: Buffer } | { op: 'sample.delete'; id: string };
