/**
 * Replicated facebank records (pure): what one appliance publishes per person and per sample, validated with zod
 * on receipt. A record carries its version (HLC text) and origin appliance; `deleted` marks a tombstone.
 */
import { z } from 'zod';
import { SAMPLE_SOURCES } from '../store/types.js';
import { ID_RE } from '../util/ids.js';

const id = z.string().regex(ID_RE);
const base = {
  id,
  version: z.string().min(23).max(200),
  origin: z.string().min(1).max(128),
};

export const personRecordSchema = z
  .object({
    kind: z.literal('person'),
    ...base,
    deleted: z.literal(false),
    name: z.string().min(1).max(200),
    created: z.string(),
  })
  .strict();

export const sampleRecordSchema = z
  .object({
    kind: z.literal('sample'),
    ...base,
    deleted: z.literal(false),
    personId: id,
    modelId: z.string().min(1).max(200),
    embedding: z.array(z.number().finite()).min(1).max(4096),
    /** Aligned 112x112 crop, JPEG, base64. */
    crop: z.string().min(1).max(400_000),
    negative: z.boolean(),
    source: z.enum(SAMPLE_SOURCES),
    quality: z.object({ size: z.number(), score: z.number(), blur: z.number(), yaw: z.number(), pitch: z.number(), roll: z.number() }).strict(),
    created: z.string(),
  })
  .strict();

export const tombstoneSchema = z
  .object({
    kind: z.enum(['person', 'sample']),
    ...base,
    deleted: z.literal(true),
    /** ms since epoch; after it the retained tombstone is cleared from the broker. */
    expires: z.number().int().nonnegative(),
  })
  .strict();

export const syncRecordSchema = z.union([personRecordSchema, sampleRecordSchema, tombstoneSchema]);

export type PersonRecord = z.infer<typeof personRecordSchema>;
export type SampleRecord = z.infer<typeof sampleRecordSchema>;
export type Tombstone = z.infer<typeof tombstoneSchema>;
export type SyncRecord = z.infer<typeof syncRecordSchema>;
export type RecordKind = SyncRecord['kind'];
