/** zod shape of the whole <dataDir>/facebank.json (records from src/store/types.ts), used to validate backups before a restore. */
import { z } from 'zod';
import { personSchema, sampleSchema } from './types.js';

export const facebankSchema = z.object({ version: z.literal(1), people: z.array(personSchema), samples: z.array(sampleSchema) }).superRefine((fb, ctx) => {
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
