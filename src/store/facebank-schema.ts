/** zod shape of <dataDir>/facebank.json (see src/store/types.ts), used to validate backups before a restore. */
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'an id of letters, digits, - and _');
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO date-time');
const finite = z.number().finite();

export const personSchema = z.object({ id, name: z.string().min(1), created: isoTime, notes: z.string() });

export const faceQualitySchema = z.object({ size: finite, score: finite, blur: finite, yaw: finite, pitch: finite, roll: finite });

export const sampleSchema = z.object({
  id,
  personId: id,
  embedding: z.array(finite).min(1),
  modelId: z.string().min(1),
  quality: faceQualitySchema,
  source: z.enum(['upload', 'camera', 'event', 'unknown', 'cli']),
  created: isoTime,
  negative: z.boolean(),
});

export const facebankSchema = z
  .object({ version: z.literal(1), people: z.array(personSchema), samples: z.array(sampleSchema) })
  .superRefine((fb, ctx) => {
    const people = new Set<string>();
    fb.people.forEach((p, i) => {
      if (people.has(p.id)) ctx.addIssue({ code: 'custom', path: ['people', i, 'id'], message: `duplicate person id ${p.id}` });
      people.add(p.id);
    });
    const samples = new Set<string>();
    fb.samples.forEach((s, i) => {
      if (samples.has(s.id)) ctx.addIssue({ code: 'custom', path: ['samples', i, 'id'], message: `duplicate sample id ${s.id}` });
      samples.add(s.id);
      if (!people.has(s.personId)) ctx.addIssue({ code: 'custom', path: ['samples', i, 'personId'], message: `no person with id ${s.personId}` });
    });
  });

export type FacebankFile = z.infer<typeof facebankSchema>;
