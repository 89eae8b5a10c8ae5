/** Unknown faces grouped by likeness: the groups, naming a group (all or chosen faces) and dismissing it. */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, validId } from '../http.js';
import { normalizeName } from '../../store/names.js';
import { clusterEmbeddings } from '../../match/cluster.js';
import { mustBodyPerson, snapshotCrop, snapshotUrl } from './common.js';

export function unknownRoutes(deps: AppDeps, clusterThreshold: number): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { engine, facebank, unknowns } = deps;

  const clusters = () => {
    const faces = unknowns.list();
    const groups = clusterEmbeddings(
      faces.map((f) => f.embedding),
      { threshold: clusterThreshold },
    );
    return groups.map((g) => {
      const members = g.map((i) => faces[i]);
      // The cluster id is its oldest member's id: stable while faces join.
      const oldest = members.reduce((a, b) => (a!.time <= b!.time ? a : b));
      return { id: oldest!.id, members };
    });
  };

  app.get('/unknowns', (c) =>
    c.json({
      threshold: clusterThreshold,
      clusters: clusters().map((cl) => ({
        id: cl.id,
        size: cl.members.length,
        first: cl.members.reduce((a, b) => (a!.time <= b!.time ? a : b))!.time,
        last: cl.members.reduce((a, b) => (a!.time >= b!.time ? a : b))!.time,
        cameras: [...new Set(cl.members.map((m) => m!.camera))],
        members: cl.members.map((m) => ({ id: m!.id, camera: m!.camera, time: m!.time, snapshotUrl: snapshotUrl(m!.snapshot) })),
      })),
    }),
  );

  const mustCluster = (id: string | undefined) => {
    const cid = validId(id, 'cluster');
    const cl = clusters().find((x) => x.members.some((m) => m!.id === cid));
    if (!cl) fail(404, 'not_found', 'That group of unknown faces is gone; reload.');
    return cl!;
  };

  app.post('/unknowns/:id/name', async (c) => {
    const cl = mustCluster(c.req.param('id'));
    const body = await jsonBody(c);
    // memberIds: the faces the user ticked; the others stay unknown.
    if (body.memberIds !== undefined) {
      if (!Array.isArray(body.memberIds) || body.memberIds.length === 0 || !body.memberIds.every((x) => typeof x === 'string'))
        fail(400, 'bad_members', 'memberIds lists at least one face of the group.');
      const chosen = new Set(body.memberIds as string[]);
      cl.members = cl.members.filter((m) => chosen.has(m!.id));
      if (cl.members.length !== chosen.size) fail(409, 'members_gone', 'Some of the chosen faces are no longer in this group; reload.');
    }
    let person;
    let created = false;
    if (body.personId !== undefined) person = await mustBodyPerson(facebank, body.personId);
    else {
      const name = normalizeName(body.name);
      person = await facebank.findByName(name);
      if (!person) {
        person = await facebank.createPerson(name);
        created = true;
      }
    }
    const sampleIds: string[] = [];
    for (const m of cl.members) {
      const s = await facebank.addSample(person.id, {
        embedding: Float32Array.from(m!.embedding),
        modelId: engine.embedderId,
        quality: m!.quality,
        source: 'unknown',
        crop: await snapshotCrop(deps, m!.snapshot),
      });
      sampleIds.push(s.id);
    }
    unknowns.remove(cl.members.map((m) => m!.id));
    return c.json({ ok: true, personId: person.id, created, sampleIds }, 201);
  });

  app.post('/unknowns/:id/dismiss', (c) => {
    const cl = mustCluster(c.req.param('id'));
    unknowns.remove(cl.members.map((m) => m!.id));
    return c.json({ ok: true, dismissed: cl.members.length });
  });

  return app;
}
